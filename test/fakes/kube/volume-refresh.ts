// The kubelet keeps Secret, ConfigMap and projected volumes of running pods current: when
// an object they draw on changes, the files are rewritten (atomically, see volumes.ts) and
// the containers see the new content without a restart. A real kubelet does it on its sync
// period (up to a minute or so); the stand-in does it as soon as the change is stored. An
// object that is now missing leaves the last content in place, as the kubelet leaves it.
import path from 'node:path';
import type { Store, StoreEvent } from './store.js';
import { NotReadyToStart, usesObject, volumeFiles, writeAtomically } from './volumes.js';

export class VolumeRefresher {
  private queue: Promise<void> = Promise.resolve();
  private readonly onStore = (e: StoreEvent) => this.onEvent(e);

  constructor(
    private readonly store: Store,
    /** The host directory of a pod's volumes while its container has been set up; undefined before. */
    private readonly podDir: (uid: string) => string | undefined,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    this.store.on('event', this.onStore);
  }

  /** Stops listening; resolves once the rewrites under way are done. */
  async close(): Promise<void> {
    this.store.off('event', this.onStore);
    await this.queue;
  }

  private onEvent(e: StoreEvent): void {
    if (e.plural !== 'secrets' && e.plural !== 'configmaps') return;
    const namespace = e.object.metadata.namespace;
    const name = e.object.metadata.name;
    for (const pod of this.store.list('pods', namespace)) {
      const dir = this.podDir(pod.metadata.uid);
      if (!dir) continue;
      for (const volume of pod.spec.volumes ?? []) {
        if (!usesObject(volume, e.plural, name)) continue;
        // One rewrite at a time, in the order of the changes, so the last one wins.
        this.queue = this.queue.then(() => this.rewrite(namespace, volume, path.join(dir, volume.name))).catch(this.onError);
      }
    }
  }

  private async rewrite(namespace: string, volume: any, dir: string): Promise<void> {
    let files;
    try {
      files = volumeFiles(this.store, namespace, volume);
    } catch (err) {
      if (err instanceof NotReadyToStart) return;
      throw err;
    }
    await writeAtomically(dir, files);
  }
}
