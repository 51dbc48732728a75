// Why a function's pods do not become ready, read from their status as kubelet reports it:
// an image that cannot be pulled is the contract's `image` error; a container that keeps
// exiting is told with its reason, so a failed deploy says what went wrong.
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { ProviderError } from '../provider.js';
import { call } from './errors.js';
import * as L from './labels.js';

const IMAGE_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull']);
const CRASH_REASONS = new Set(['CrashLoopBackOff', 'RunContainerError', 'CreateContainerError', 'CreateContainerConfigError']);

export class PodProblems {
  private readonly core: CoreV1Api;

  constructor(kc: KubeConfig) {
    this.core = kc.makeApiClient(CoreV1Api);
  }

  pods(name: string, namespace: string): Promise<V1Pod[]> {
    return call(`pods of function "${name}" in namespace "${namespace}"`, async () => (await this.core.listNamespacedPod({ namespace, labelSelector: `${L.FUNCTION}=${name}` })).items);
  }

  /** The first problem among the pods running `image` (image or timeout), undefined when none. */
  async find(name: string, namespace: string, image: string): Promise<ProviderError | undefined> {
    for (const pod of await this.pods(name, namespace)) {
      if (pod.metadata?.deletionTimestamp) continue;
      for (const c of pod.status?.containerStatuses ?? []) {
        if (c.image !== image && pod.spec?.containers[0]?.image !== image) continue;
        const waiting = c.state?.waiting;
        if (waiting?.reason && IMAGE_REASONS.has(waiting.reason)) {
          return new ProviderError('image', `image "${image}" cannot be pulled (${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''})`);
        }
        const exited = c.state?.terminated ?? c.lastState?.terminated;
        if ((waiting?.reason && CRASH_REASONS.has(waiting.reason)) || (exited && c.restartCount > 0)) {
          const how = exited ? `exited with code ${exited.exitCode}${exited.reason ? ` (${exited.reason})` : ''}` : waiting!.reason!;
          return new ProviderError('timeout', `replica ${pod.metadata?.name} of "${name}" ${how}${waiting?.message ? `: ${waiting.message}` : ''}`);
        }
      }
    }
    return undefined;
  }
}
