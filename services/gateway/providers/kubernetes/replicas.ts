// The functions and their ready endpoints, in memory: a Deployment informer (this instance's
// functions) and an EndpointSlice informer (their ready addresses). The proxy's hot path and
// the change feed read only this; nothing here calls the API server per request.
import { AppsV1Api, DiscoveryV1Api, type KubeConfig, type V1Deployment, type V1EndpointSlice } from '@kubernetes/client-node';
import type { Logger } from '../../../../shared/logger.js';
import { ProviderError, type Endpoint, type FunctionChange, type FunctionStatus } from '../provider.js';
import { Informer } from './informer.js';
import * as L from './labels.js';
import { statusFromDeployment } from './spec.js';

const key = (name: string, namespace: string) => `${namespace}/${name}`;

export class FunctionCache {
  private readonly deployments: Informer<V1Deployment>;
  private readonly slices: Informer<V1EndpointSlice>;
  private readonly endpointMap = new Map<string, readonly Endpoint[]>();
  private readonly listeners = new Set<(change: FunctionChange) => void>();
  private readonly healthListeners = new Set<() => void>();

  constructor(kc: KubeConfig, instance: string, log: Logger) {
    const apps = kc.makeApiClient(AppsV1Api);
    const discovery = kc.makeApiClient(DiscoveryV1Api);
    const selector = L.instanceSelector(instance);
    const onHealth = () => this.healthListeners.forEach((l) => l());
    this.deployments = new Informer(kc, 'Deployments', '/apis/apps/v1/deployments', () => apps.listDeploymentForAllNamespaces({ labelSelector: selector }), selector, log, onHealth);
    // All slices: the EndpointSlice controller names the Service in kubernetes.io/service-name,
    // and only slices of this instance's functions are kept (see refresh).
    this.slices = new Informer(kc, 'EndpointSlices', '/apis/discovery.k8s.io/v1/endpointslices', () => discovery.listEndpointSliceForAllNamespaces({}), undefined, log, onHealth);

    this.deployments.on('add', (d) => this.deploymentChanged(d, 'added'));
    this.deployments.on('update', (d) => this.deploymentChanged(d, 'changed'));
    this.deployments.on('delete', (d) => {
      const { name = '', namespace = '' } = d.metadata ?? {};
      this.endpointMap.delete(key(name, namespace));
      this.emit({ kind: 'removed', name, namespace });
    });
    for (const event of ['add', 'update', 'delete'] as const) this.slices.on(event, (s) => this.sliceChanged(s));
  }

  async start(): Promise<void> {
    await this.deployments.start();
    await this.slices.start();
    for (const d of this.deployments.list()) this.refresh(d.metadata!.name!, d.metadata!.namespace!);
  }

  async stop(): Promise<void> {
    await Promise.all([this.deployments.stop(), this.slices.stop()]);
  }

  /** Why the cached picture may be stale (API server unreachable); undefined when current. */
  problem(): string | undefined {
    return this.deployments.problem ?? this.slices.problem;
  }

  onHealthChange(listener: () => void): void {
    this.healthListeners.add(listener);
  }

  deployment(name: string, namespace: string): V1Deployment | undefined {
    return this.deployments.get(name, namespace);
  }

  all(): readonly V1Deployment[] {
    return this.deployments.list();
  }

  endpoints(name: string, namespace: string): readonly Endpoint[] | undefined {
    if (!this.deployments.get(name, namespace)) return undefined;
    return this.endpointMap.get(key(name, namespace)) ?? [];
  }

  status(d: V1Deployment): FunctionStatus {
    const s = statusFromDeployment(d);
    return { ...s, invocationCount: 0, availableReplicas: this.endpointMap.get(key(s.name, s.namespace))?.length ?? 0 };
  }

  onChange(listener: (change: FunctionChange) => void): () => void {
    this.listeners.add(listener);
    for (const d of this.deployments.list()) listener({ kind: 'added', function: this.status(d) });
    return () => this.listeners.delete(listener);
  }

  /** Resolves once `check` holds, re-checked on every change; rejects at the deadline or abort. */
  until<T>(check: () => T | undefined, timeoutMs: number, timeoutMessage: string, signal?: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let done = false;
      const finish = (fn: () => void) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        clearInterval(poll);
        unsubscribe();
        signal?.removeEventListener('abort', aborted);
        fn();
      };
      const test = () => {
        try {
          const value = check();
          if (value !== undefined) finish(() => resolve(value));
        } catch (err) {
          finish(() => reject(err));
        }
      };
      const aborted = () => finish(() => reject(signal!.reason));
      const timer = setTimeout(() => finish(() => reject(new ProviderError('timeout', timeoutMessage))), timeoutMs);
      // Also on a timer: a check may read state the feed does not announce (a pod's status).
      const poll = setInterval(test, 500);
      this.listeners.add(test);
      const unsubscribe = () => this.listeners.delete(test);
      signal?.addEventListener('abort', aborted, { once: true });
      if (signal?.aborted) return aborted();
      test();
    });
  }

  private emit(change: FunctionChange): void {
    for (const l of [...this.listeners]) l(change);
  }

  private deploymentChanged(d: V1Deployment, kind: 'added' | 'changed'): void {
    // Its slices may have arrived first.
    if (kind === 'added') this.refresh(d.metadata!.name!, d.metadata!.namespace!);
    this.emit({ kind, function: this.status(d) });
  }

  private sliceChanged(s: V1EndpointSlice): void {
    const service = s.metadata?.labels?.[L.SERVICE_NAME];
    const namespace = s.metadata?.namespace;
    if (service && namespace) this.refresh(service, namespace);
  }

  /** Recomputes a function's ready endpoints from all its slices; tells listeners when the count moves. */
  private refresh(name: string, namespace: string): void {
    const k = key(name, namespace);
    if (!this.deployments.get(name, namespace)) {
      this.endpointMap.delete(k);
      return;
    }
    const seen = new Map<string, Endpoint>();
    for (const slice of this.slices.list(namespace)) {
      if (slice.metadata?.labels?.[L.SERVICE_NAME] !== name) continue;
      const port = (slice.ports ?? []).find((p) => p.name === L.PORT_NAME)?.port ?? slice.ports?.[0]?.port;
      if (port === undefined) continue;
      for (const e of slice.endpoints ?? []) {
        // Kubernetes: an unset ready condition means ready; terminating endpoints are not.
        if (e.conditions?.ready === false || e.conditions?.terminating === true) continue;
        const address = e.addresses[0];
        if (!address) continue;
        const id = e.targetRef?.name ?? `${address}:${port}`;
        const host = address.includes(':') ? `[${address}]` : address;
        seen.set(id, { id, url: `http://${host}:${port}` });
      }
    }
    const next = [...seen.values()].sort((a, b) => a.id.localeCompare(b.id));
    const before = this.endpointMap.get(k);
    this.endpointMap.set(k, next);
    if (before?.length !== next.length) this.emit({ kind: 'ready', name, namespace, ready: next.length });
    else if (before.some((e, i) => e.url !== next[i].url)) this.emit({ kind: 'ready', name, namespace, ready: next.length });
  }
}
