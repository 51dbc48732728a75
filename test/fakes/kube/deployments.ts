// The deployment controller: keeps each Deployment's pods at spec.replicas of the current
// template, rolling a template change out within maxSurge / maxUnavailable (pods of the
// new template are created, old ones removed only while enough are ready), and reports
// replicas, updatedReplicas, readyReplicas, availableReplicas and observedGeneration.
// Pods are owned by the Deployment directly (no ReplicaSet objects are served); they carry
// the pod-template-hash label as real ones do.
import { createHash, randomBytes } from 'node:crypto';
import { ReconcileQueue } from './reconcile-queue.js';
import type { Store, StoreEvent } from './store.js';

export function templateHash(template: unknown): string {
  return createHash('sha256').update(JSON.stringify(template)).digest('hex').slice(0, 10);
}

/** "25%" of replicas (rounded up for surge, down for unavailable) or a plain number. */
function resolve(value: unknown, replicas: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  const m = /^(\d+)%$/.exec(String(value ?? ''));
  if (!m) return Number(value) || 0;
  const exact = (Number(m[1]) * replicas) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

const isReady = (pod: any) => pod.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True') === true;
const stamp = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

export class DeploymentController {
  private readonly queue: ReconcileQueue;
  private readonly onEvent = (e: StoreEvent) => {
    if (e.plural === 'deployments') this.queue.add(`${e.object.metadata.namespace}/${e.object.metadata.name}`);
    if (e.plural === 'pods') {
      const owner = (e.object.metadata.ownerReferences ?? []).find((r: any) => r.kind === 'Deployment');
      if (owner) this.queue.add(`${e.object.metadata.namespace}/${owner.name}`);
    }
  };

  constructor(
    private readonly store: Store,
    onError: (err: unknown) => void,
  ) {
    this.queue = new ReconcileQueue((key) => this.reconcile(key), onError);
    store.on('event', this.onEvent);
    for (const d of store.list('deployments')) this.queue.add(`${d.metadata.namespace}/${d.metadata.name}`);
  }

  close(): void {
    this.store.off('event', this.onEvent);
    this.queue.close();
  }

  private reconcile(key: string): void {
    const [namespace, name] = key.split('/');
    const deployment = this.store.get('deployments', namespace, name);
    if (!deployment) return;
    const uid = deployment.metadata.uid;
    const owned = this.store.list('pods', namespace, (p) => (p.metadata.ownerReferences ?? []).some((r: any) => r.uid === uid));
    const live = owned.filter((p) => !p.metadata.deletionTimestamp);
    const hash = templateHash(deployment.spec.template);
    const fresh = live.filter((p) => p.metadata.labels?.['pod-template-hash'] === hash);
    const old = live.filter((p) => p.metadata.labels?.['pod-template-hash'] !== hash);
    const desired = deployment.spec.replicas ?? 1;
    const strategy = deployment.spec.strategy ?? {};

    if (strategy.type === 'Recreate') {
      old.forEach((p) => this.terminate(p));
      // Recreate waits until every old pod is gone before starting new ones.
      if (owned.some((p) => p.metadata.labels?.['pod-template-hash'] !== hash)) return this.writeStatus(deployment, owned, hash);
      this.scaleFresh(deployment, fresh, desired, desired, hash);
      return this.writeStatus(deployment, this.ownedPods(namespace, uid), hash);
    }

    const surge = resolve(strategy.rollingUpdate?.maxSurge ?? '25%', desired, true);
    let unavailable = resolve(strategy.rollingUpdate?.maxUnavailable ?? '25%', desired, false);
    if (surge === 0 && unavailable === 0) unavailable = 1;
    const maxTotal = desired + surge;
    const minAvailable = Math.max(desired - unavailable, 0);

    // Old pods that are not ready serve nobody: they go first, without counting against availability.
    const oldUnready = old.filter((p) => !isReady(p));
    oldUnready.forEach((p) => this.terminate(p));
    const oldReady = old.filter(isReady);

    const freshReady = fresh.filter(isReady);
    let total = fresh.length + oldReady.length;
    this.scaleFresh(deployment, fresh, desired, Math.max(maxTotal - total + fresh.length, 0), hash);
    total = this.ownedPods(namespace, uid).filter((p) => !p.metadata.deletionTimestamp).length;

    // Old ready pods go only while the ready pods left still cover minAvailable.
    let removable = freshReady.length + oldReady.length - minAvailable;
    for (const pod of oldReady) {
      if (removable <= 0) break;
      this.terminate(pod);
      removable--;
    }
    this.writeStatus(deployment, this.ownedPods(namespace, uid), hash);
  }

  /** Brings the fresh pods to `desired`, creating at most up to `limit` in all, removing extras (unready first). */
  private scaleFresh(deployment: any, fresh: any[], desired: number, limit: number, hash: string): void {
    const target = Math.min(desired, limit);
    for (let n = fresh.length; n < target; n++) this.createPod(deployment, hash);
    if (fresh.length > desired) {
      const extras = [...fresh].sort((a, b) => Number(isReady(a)) - Number(isReady(b))).slice(0, fresh.length - desired);
      extras.forEach((p) => this.terminate(p));
    }
  }

  private ownedPods(namespace: string, uid: string): any[] {
    return this.store.list('pods', namespace, (p) => (p.metadata.ownerReferences ?? []).some((r: any) => r.uid === uid));
  }

  private createPod(deployment: any, hash: string): void {
    const template = structuredClone(deployment.spec.template);
    const name = `${deployment.metadata.name}-${hash.slice(0, 10)}-${randomBytes(3).toString('hex').slice(0, 5)}`;
    this.store.create('pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        ...template.metadata,
        name,
        namespace: deployment.metadata.namespace,
        labels: { ...template.metadata?.labels, 'pod-template-hash': hash },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name, uid: deployment.metadata.uid, controller: true, blockOwnerDeletion: true }],
      },
      spec: { ...template.spec, nodeName: 'standin' },
      status: { phase: 'Pending' },
    });
  }

  private terminate(pod: any): void {
    if (pod.metadata.deletionTimestamp) return;
    pod.metadata.deletionTimestamp = stamp();
    pod.metadata.deletionGracePeriodSeconds = pod.spec.terminationGracePeriodSeconds ?? 30;
    this.store.update('pods', pod);
  }

  private writeStatus(deployment: any, pods: any[], hash: string): void {
    const live = pods.filter((p) => !p.metadata.deletionTimestamp);
    const ready = live.filter(isReady).length;
    const updated = live.filter((p) => p.metadata.labels?.['pod-template-hash'] === hash).length;
    const desired = deployment.spec.replicas ?? 1;
    const current = this.store.get('deployments', deployment.metadata.namespace, deployment.metadata.name);
    if (!current || current.metadata.uid !== deployment.metadata.uid) return;
    const minAvailable = desired - resolve(current.spec.strategy?.rollingUpdate?.maxUnavailable ?? 0, desired, false);
    const old = current.status?.conditions ?? [];
    const condition = (type: string, ok: boolean, reason: string, message: string) => {
      const prev = old.find((c: any) => c.type === type);
      const status = ok ? 'True' : 'False';
      return { type, status, reason, message, lastUpdateTime: prev?.status === status ? prev.lastUpdateTime : stamp(), lastTransitionTime: prev?.status === status ? prev.lastTransitionTime : stamp() };
    };
    current.status = {
      observedGeneration: current.metadata.generation,
      replicas: live.length,
      updatedReplicas: updated,
      readyReplicas: ready,
      availableReplicas: ready,
      unavailableReplicas: Math.max(desired - ready, 0),
      conditions: [
        condition('Available', ready >= minAvailable, ready >= minAvailable ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable', `Deployment ${ready >= minAvailable ? 'has' : 'does not have'} minimum availability.`),
        condition('Progressing', true, updated === desired && ready === desired ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated', `Deployment "${current.metadata.name}" is progressing.`),
      ],
    };
    for (const key of ['readyReplicas', 'availableReplicas', 'unavailableReplicas', 'updatedReplicas'] as const) if (current.status[key] === 0) delete current.status[key];
    this.store.update('deployments', current);
  }
}
