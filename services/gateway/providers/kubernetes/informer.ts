// One list + watch kept alive: the client's ListWatch lists, watches from the list's
// resourceVersion, resumes from the last seen one and lists again on 410 Gone; this adds
// what it leaves to its user: restarting after any other failure (with backoff) and telling
// whether the picture is current, so the gateway can say why /system/* is down.
import { ListWatch, Watch, type KubeConfig, type KubernetesObject, type ListPromise } from '@kubernetes/client-node';
import type { Logger } from '../../../../shared/logger.js';

export type InformerEvent = 'add' | 'update' | 'delete';

export class Informer<T extends KubernetesObject> {
  private readonly lw: ListWatch<T>;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Why the picture may be stale; undefined while list and watch work. */
  problem: string | undefined = 'not started';

  constructor(
    kc: KubeConfig,
    private readonly what: string,
    path: string,
    list: ListPromise<T>,
    labelSelector: string | undefined,
    private readonly log: Logger,
    private readonly onHealth: () => void,
  ) {
    this.lw = new ListWatch<T>(path, new Watch(kc), list, false, labelSelector);
    this.lw.on('error', (err) => this.failed(err));
  }

  on(event: InformerEvent, cb: (obj: T) => void): void {
    this.lw.on(event, cb);
  }

  /** Lists and starts watching; rejects when the first list fails. */
  async start(): Promise<void> {
    const before = this.failures;
    let first: unknown;
    const capture = (err: unknown) => (first ??= err);
    this.lw.on('error', capture);
    await this.lw.start();
    this.lw.off('error', capture);
    if (this.failures > before) throw first;
    this.healthy();
  }

  get(name: string, namespace: string): T | undefined {
    return this.lw.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    return this.lw.list(namespace);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.lw.stop();
  }

  private healthy(): void {
    if (this.problem === undefined) return;
    this.problem = undefined;
    this.onHealth();
  }

  private failed(err: unknown): void {
    // Stopping aborts the watch, which the client reports as a failure: not one.
    if (this.stopped) return;
    this.failures += 1;
    const message = (err as Error)?.message ?? String(err);
    const was = this.problem;
    this.problem = `watching ${this.what} failed: ${message}`;
    if (was === undefined) {
      this.log.warn({ err, what: this.what }, 'Kubernetes watch failed; retrying');
      this.onHealth();
    }
    clearTimeout(this.timer);
    // Backoff from 250 ms to 5 s, so a returning API server is seen quickly but not hammered.
    const delay = Math.min(250 * 2 ** Math.min(this.failures, 5), 5000);
    this.timer = setTimeout(() => void this.retry(), delay);
    this.timer.unref();
  }

  private async retry(): Promise<void> {
    if (this.stopped) return;
    const before = this.failures;
    await this.lw.start();
    if (this.failures === before && !this.stopped) {
      this.failures = 0;
      this.healthy();
    }
  }
}
