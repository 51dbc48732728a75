// The EndpointSlice controller: for every Service with a selector, one EndpointSlice per
// pod that has a published port (label kubernetes.io/service-name, address 127.0.0.1,
// port = the pod's published host port, conditions ready / serving / terminating). A real
// controller groups endpoints by their port set; here each pod's port differs, so each pod
// gets its own slice, which is what a real cluster does for a named targetPort resolving
// to different numbers. Slices follow pods as they start, become ready, die and go.
import { createHash } from 'node:crypto';
import { ReconcileQueue } from './reconcile-queue.js';
import { selectorMatches } from './selector.js';
import { canonical, type Store, type StoreEvent } from './store.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

const isReady = (pod: any) => pod.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True') === true;

export class EndpointsController {
  private readonly queue: ReconcileQueue;
  private readonly onEvent = (e: StoreEvent) => {
    const ns = e.object.metadata.namespace;
    if (e.plural === 'services') this.queue.add(`${ns}/${e.object.metadata.name}`);
    if (e.plural === 'pods') for (const s of this.store.list('services', ns)) this.queue.add(`${ns}/${s.metadata.name}`);
  };

  constructor(
    private readonly store: Store,
    private readonly publishedPort: (podUid: string) => number | undefined,
    onError: (err: unknown) => void,
  ) {
    this.queue = new ReconcileQueue((key) => this.reconcile(key), onError);
    store.on('event', this.onEvent);
  }

  /** The kubelet learned something the store does not show (a container's port): look again. */
  poke(namespace: string): void {
    for (const s of this.store.list('services', namespace)) this.queue.add(`${namespace}/${s.metadata.name}`);
  }

  close(): void {
    this.store.off('event', this.onEvent);
    this.queue.close();
  }

  private reconcile(key: string): void {
    const [namespace, name] = key.split('/');
    const service = this.store.get('services', namespace, name);
    const existing = this.store.list('endpointslices', namespace, (s) => s.metadata.labels?.[SERVICE_NAME_LABEL] === name && s.metadata.labels?.['endpointslice.kubernetes.io/managed-by'] === 'endpointslice-controller.k8s.io');
    const wanted = new Map<string, any>();
    if (service?.spec?.selector) {
      const pods = this.store.list('pods', namespace, (p) => selectorMatches(service.spec.selector, p.metadata.labels));
      for (const pod of pods) {
        const port = this.publishedPort(pod.metadata.uid);
        if (!port) continue;
        const slice = this.sliceFor(service, pod, port);
        wanted.set(slice.metadata.name, slice);
      }
    }
    for (const slice of existing) {
      const want = wanted.get(slice.metadata.name);
      if (!want) {
        this.store.remove('endpointslices', namespace, slice.metadata.name);
        continue;
      }
      wanted.delete(slice.metadata.name);
      const same = canonical({ e: slice.endpoints, p: slice.ports }) === canonical({ e: want.endpoints, p: want.ports });
      if (!same) this.store.update('endpointslices', { ...slice, endpoints: want.endpoints, ports: want.ports });
    }
    for (const slice of wanted.values()) this.store.create('endpointslices', slice);
  }

  private sliceFor(service: any, pod: any, port: number): any {
    const terminating = Boolean(pod.metadata.deletionTimestamp);
    const ready = isReady(pod) && !terminating;
    const suffix = createHash('sha256').update(pod.metadata.uid).digest('hex').slice(0, 5);
    const servicePort = service.spec.ports?.[0];
    return {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: `${service.metadata.name}-${suffix}`,
        namespace: service.metadata.namespace,
        labels: { [SERVICE_NAME_LABEL]: service.metadata.name, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' },
        ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: service.metadata.name, uid: service.metadata.uid, controller: true, blockOwnerDeletion: true }],
      },
      addressType: 'IPv4',
      endpoints: [
        {
          addresses: ['127.0.0.1'],
          conditions: { ready, serving: isReady(pod), terminating },
          nodeName: 'standin',
          targetRef: { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid },
        },
      ],
      ports: [{ name: servicePort?.name ?? '', port, protocol: 'TCP' }],
    };
  }
}
