// Load summed over every gateway: each adds its per-second counts (calls started, call-seconds
// in flight) to one Redis hash per function and second, under the installation's queue prefix
// and the gateway instance, with a TTL; the decider reads and sums the seconds of its window.
// The proxy never waits on Redis: CallLoad counts in memory and a timer flushes it here.
import type { Redis } from 'ioredis';
import type { CallLoad } from './load.js';

/** A flush every quarter second keeps each second's count close to the calls of that second. */
export const FLUSH_MS = 250;

export interface WindowLoad {
  /** Calls started per second, averaged over the window. */
  rps: number;
  /** Calls in flight, averaged over the window. */
  inflight: number;
}

export class SharedLoad {
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly redis: Redis,
    /** e.g. "gitfaas:autoscale:default" */
    private readonly prefix: string,
    private readonly load: CallLoad,
    private readonly ttlMs: number,
    private readonly onError: (err: unknown) => void,
    private readonly clock: () => number = Date.now,
  ) {}

  private key(fn: string, second: number): string {
    return `${this.prefix}:load:${fn}:${second}`;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  /** Adds what this gateway counted since the last flush to the current second. */
  flush(): Promise<void> {
    return (this.flushing ??= (async () => {
      const samples = this.load.take();
      if (samples.length === 0) return;
      // Counted over the last FLUSH_MS: attributed to the second its middle fell in.
      const second = Math.floor((this.clock() - FLUSH_MS / 2) / 1000);
      const batch = this.redis.multi();
      for (const s of samples) {
        const key = this.key(s.fn, second);
        if (s.started > 0) batch.hincrby(key, 'started', s.started);
        if (s.inflightSeconds > 0) batch.hincrbyfloat(key, 'inflight', s.inflightSeconds);
        batch.pexpire(key, this.ttlMs);
      }
      await batch.exec();
    })()
      .catch(this.onError)
      .finally(() => (this.flushing = undefined)));
  }

  /** The average load of `fn` over the `windowMs` of whole seconds before the current one. */
  async read(fn: string, windowMs: number): Promise<WindowLoad> {
    const seconds = Math.max(1, Math.round(windowMs / 1000));
    const current = Math.floor(this.clock() / 1000);
    const batch = this.redis.pipeline();
    for (let s = current - seconds; s < current; s++) batch.hmget(this.key(fn, s), 'started', 'inflight');
    const rows = (await batch.exec()) ?? [];
    let started = 0;
    let inflight = 0;
    for (const [err, value] of rows) {
      if (err) throw err;
      const [a, b] = value as [string | null, string | null];
      started += Number(a ?? 0);
      inflight += Number(b ?? 0);
    }
    return { rps: started / seconds, inflight: inflight / seconds };
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
