// The functions and their ready endpoints, in memory: a Deployment informer (this instance's
// functions) and an EndpointSlice informer (their ready addresses). The proxy's hot path and
// the change feed (change-feed.ts, told through `changed`) read only this; nothing here
// calls the API server per request.
import { AppsV1Api, DiscoveryV1Api, type KubeConfig, type V1Deployment, type V1EndpointSlice } from '@kubernetes/client-node';
import type { Logger } from '../../../../shared/logger.js';
import { ProviderError, type Endpoint, type FunctionStatus } from '../provider.js';
import { Informer } from './informer.js';
import * as L from './labels.js';
import { statusFromDeployment } from './spec.js';

const key = (name: string, namespace: string) => `${namespace}/${name}`;

export class FunctionCache {
  private readonly deployments: Informer<V1Deployment>;
  private readonly slices: Informer<V1EndpointSlice>;
  private readonly endpointMap = new Map<string, readonly Endpoint[]>();
  /** Functions the feed has been told of, so a deletion is told once. */
  private readonly known = new Set<string>();
  /** Waits of this provider's own operations, re-checked on every change. */
  private readonly watchers = new Set<() => void>();
  private readonly healthListeners = new Set<() => void>();

  /** `changed` hears every change to a function or its endpoints (the feed works out what moved). */
  constructor(
    kc: KubeConfig,
    instance: string,
    log: Logger,
    private readonly changed: (name: string, namespace: string) => void,
  ) {
    const apps = kc.makeApiClient(AppsV1Api);
    const discovery = kc.makeApiClient(DiscoveryV1Api);
    const selector = L.instanceSelector(instance);
    const onHealth = () => this.healthListeners.forEach((l) => l());
    this.deployments = new Informer(kc, 'Deployments', '/apis/apps/v1/deployments', () => apps.listDeploymentForAllNamespaces({ labelSelector: selector }), selector, log, onHealth);
    // All slices: the EndpointSlice controller names the Service in kubernetes.io/service-name,
    // and only slices of this instance's functions are kept (see refresh).
    this.slices = new Informer(kc, 'EndpointSlices', '/apis/discovery.k8s.io/v1/endpointslices', () => discovery.listEndpointSliceForAllNamespaces({}), undefined, log, onHealth);

    for (const event of ['add', 'update', 'delete'] as const) this.deployments.on(event, (d) => this.refresh(d.metadata!.name!, d.metadata!.namespace!));
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

  /** Resolves once `check` holds, re-checked on every change; rejects at the deadline or abort. */
  until<T>(check: () => T | undefined, timeoutMs: number, timeoutMessage: string, signal?: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let done = false;
      const finish = (fn: () => void) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.watchers.delete(test);
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
      this.watchers.add(test);
      signal?.addEventListener('abort', aborted, { once: true });
      if (signal?.aborted) return aborted();
      test();
    });
  }

  private sliceChanged(s: V1EndpointSlice): void {
    const service = s.metadata?.labels?.[L.SERVICE_NAME];
    const namespace = s.metadata?.namespace;
    if (service && namespace) this.refresh(service, namespace);
  }

  /** Recomputes a function's ready endpoints from all its slices, then tells the feed and the waits. */
  private refresh(name: string, namespace: string): void {
    const k = key(name, namespace);
    if (!this.deployments.get(name, namespace)) {
      this.endpointMap.delete(k);
      if (!this.known.delete(k)) return;
    } else {
      this.known.add(k);
      this.endpointMap.set(k, this.ready(name, namespace));
    }
    this.changed(name, namespace);
    for (const w of [...this.watchers]) w();
  }

  private ready(name: string, namespace: string): Endpoint[] {
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
    return [...seen.values()].sort((a, b) => a.id.localeCompare(b.id));
  }
}
