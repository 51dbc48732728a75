// A pod's status as the kubelet reports it, from what the stand-in's kubelet knows about
// the pod's one container.
export type ContainerState =
  | { waiting: { reason: string; message?: string } }
  | { running: { startedAt: string } }
  | { terminated: { exitCode: number; reason: string; startedAt?: string; finishedAt: string } };

export interface RuntimeView {
  state: ContainerState;
  lastState?: ContainerState;
  ready: boolean;
  restartCount: number;
  containerId?: string;
  imageID?: string;
  startTime: string;
}

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

function condition(type: string, ok: boolean, old: any[] | undefined, reason?: string): any {
  const previous = old?.find((c) => c.type === type);
  const status = ok ? 'True' : 'False';
  return {
    type,
    status,
    lastProbeTime: null,
    lastTransitionTime: previous && previous.status === status ? previous.lastTransitionTime : now(),
    ...(reason && !ok ? { reason } : {}),
  };
}

export function podStatus(pod: any, rt: RuntimeView): any {
  const container = pod.spec.containers[0];
  const running = 'running' in rt.state;
  const terminated = 'terminated' in rt.state ? rt.state.terminated : undefined;
  const never = pod.spec.restartPolicy === 'Never' || (pod.spec.restartPolicy === 'OnFailure' && terminated?.exitCode === 0);
  const phase = terminated && never ? (terminated.exitCode === 0 ? 'Succeeded' : 'Failed') : running || rt.restartCount > 0 ? 'Running' : 'Pending';
  const ready = running && rt.ready && !pod.metadata.deletionTimestamp;
  const old = pod.status?.conditions;
  return {
    phase,
    hostIP: '127.0.0.1',
    podIP: '127.0.0.1',
    podIPs: [{ ip: '127.0.0.1' }],
    startTime: rt.startTime,
    qosClass: container.resources?.limits ? 'Burstable' : 'BestEffort',
    conditions: [
      condition('PodScheduled', true, old),
      condition('Initialized', true, old),
      condition('ContainersReady', ready, old, 'ContainersNotReady'),
      condition('Ready', ready, old, 'ContainersNotReady'),
    ],
    containerStatuses: [
      {
        name: container.name,
        image: container.image,
        imageID: rt.imageID ?? '',
        ...(rt.containerId ? { containerID: `docker://${rt.containerId}` } : {}),
        ready,
        started: running,
        restartCount: rt.restartCount,
        state: rt.state,
        lastState: rt.lastState ?? {},
      },
    ],
  };
}
