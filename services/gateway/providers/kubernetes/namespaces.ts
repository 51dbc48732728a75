// The namespaces gitfaas manages carry app.kubernetes.io/managed-by=gitfaas. gitfaas creates
// one on an owner's first deploy; it refuses kube-system and any namespace it did not create,
// so an owner's name can never reach into someone else's workloads.
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { ProviderError } from '../provider.js';
import { call, callOrAbsent, statusCode, toProviderError } from './errors.js';
import * as L from './labels.js';

const SYSTEM = new Set(['kube-system', 'kube-public', 'kube-node-lease']);

export class Namespaces {
  private readonly core: CoreV1Api;
  /** Namespaces known to be managed (they do not stop being so while the gateway runs). */
  private readonly known = new Set<string>();

  constructor(kc: KubeConfig) {
    this.core = kc.makeApiClient(CoreV1Api);
  }

  async list(): Promise<string[]> {
    const list = await call('namespaces', () => this.core.listNamespace({ labelSelector: L.managedSelector }));
    return list.items.map((n) => n.metadata!.name!).sort();
  }

  /** Throws invalid unless the namespace exists and gitfaas manages it. */
  async check(namespace: string): Promise<void> {
    if (this.known.has(namespace)) return;
    refuseSystem(namespace);
    const ns = await callOrAbsent(`namespace "${namespace}"`, () => this.core.readNamespace({ name: namespace }));
    if (!ns) throw new ProviderError('not_found', `namespace "${namespace}" does not exist`);
    this.accept(namespace, ns.metadata?.labels);
  }

  /** Like check, but creates the namespace (labelled) when it does not exist yet. */
  async ensure(namespace: string): Promise<void> {
    if (this.known.has(namespace)) return;
    refuseSystem(namespace);
    const ns = await callOrAbsent(`namespace "${namespace}"`, () => this.core.readNamespace({ name: namespace }));
    if (ns) return this.accept(namespace, ns.metadata?.labels);
    try {
      await this.core.createNamespace({ body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: { [L.MANAGED_BY]: L.MANAGED_BY_VALUE } } } });
    } catch (err) {
      // Another gateway created it first: read it again to learn whose it is.
      if (statusCode(err) !== 409) throw toProviderError(err, `namespace "${namespace}"`);
      return this.check(namespace);
    }
    this.known.add(namespace);
  }

  private accept(namespace: string, labels: Record<string, string> | undefined): void {
    if (labels?.[L.MANAGED_BY] !== L.MANAGED_BY_VALUE) {
      throw new ProviderError('invalid', `namespace "${namespace}" is not managed by gitfaas (it lacks the label ${L.managedSelector}); gitfaas deploys only into namespaces it created or an operator labelled`);
    }
    this.known.add(namespace);
  }
}

function refuseSystem(namespace: string): void {
  if (SYSTEM.has(namespace)) throw new ProviderError('invalid', `namespace "${namespace}" belongs to Kubernetes itself; gitfaas never deploys there`);
}
