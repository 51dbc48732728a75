// Call activity summed over every gateway of an installation, for the idler: with several
// gateways in front of one backend, a function one of them sees quiet may be busy on
// another. Each gateway keeps counting in memory (the proxy never waits on Redis) and a
// timer publishes what it counted:
//   <prefix>:last-started      sorted set, function -> the latest call start anywhere (ZADD GT)
//   <prefix>:inflight:<id>     hash, function -> calls in flight on gateway <id>, expiring
//                              when that gateway stops publishing (crash: its calls are gone)
//   <prefix>:gateways          sorted set, gateway id -> last publication time
// The idler reads its own gateway from memory and the others from Redis.
import type { Redis } from 'ioredis';
import type { Activity, CallActivity } from './call-activity.js';

/** How often each gateway publishes; what another gateway sees is at most this old. */
export const ACTIVITY_FLUSH_MS = 500;
/** A gateway that has not published for this long has stopped: its in-flight calls no longer count. */
const GATEWAY_TTL_MS = 4 * ACTIVITY_FLUSH_MS;
/** A quiet look is confirmed this much later: every live gateway has published in between. */
export const ACTIVITY_CONFIRM_MS = GATEWAY_TTL_MS;
/** Latest starts are kept this long after the last one anywhere: an installation gone quiet leaves nothing behind. */
const LAST_STARTED_TTL_MS = 7 * 24 * 3600_000;

export class SharedActivity {
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  /** lastStarted already published, per function: only newer starts are sent again. */
  private readonly published = new Map<string, number>();
  private readonly gatewaysKey: string;
  private readonly lastStartedKey: string;

  constructor(
    private readonly redis: Redis,
    /** e.g. "gitfaas:zero:default" */
    private readonly prefix: string,
    readonly local: CallActivity,
    /** This gateway's id among the installation's gateways. */
    readonly id: string,
    private readonly onError: (err: unknown) => void,
    private readonly clock: () => number = Date.now,
  ) {
    this.gatewaysKey = `${prefix}:gateways`;
    this.lastStartedKey = `${prefix}:last-started`;
  }

  private inflightKey(id: string): string {
    return `${this.prefix}:inflight:${id}`;
  }

  /** Publishes at once (so other gateways know this one before it proxies a call), then on a timer. */
  start(): Promise<void> {
    this.timer ??= setInterval(() => void this.flush(), ACTIVITY_FLUSH_MS);
    this.timer.unref();
    return this.flush();
  }

  flush(): Promise<void> {
    return (this.flushing ??= this.publish()
      .catch(this.onError)
      .finally(() => (this.flushing = undefined)));
  }

  private async publish(): Promise<void> {
    const now = this.clock();
    const key = this.inflightKey(this.id);
    const batch = this.redis.multi().del(key);
    const inflight: string[] = [];
    let started = false;
    for (const [fn, a] of this.local.entries()) {
      if (a.inFlight > 0) inflight.push(fn, String(a.inFlight));
      if (a.called && a.lastStarted > (this.published.get(fn) ?? 0)) {
        batch.zadd(this.lastStartedKey, 'GT', a.lastStarted, fn);
        this.published.set(fn, a.lastStarted);
        started = true;
      }
    }
    if (started) batch.pexpire(this.lastStartedKey, LAST_STARTED_TTL_MS);
    if (inflight.length) batch.hset(key, ...inflight).pexpire(key, GATEWAY_TTL_MS);
    batch.zadd(this.gatewaysKey, now, this.id).zremrangebyscore(this.gatewaysKey, '-inf', now - GATEWAY_TTL_MS);
    await batch.exec();
  }

  /** The other gateways publishing now. */
  async others(): Promise<string[]> {
    const live = await this.redis.zrangebyscore(this.gatewaysKey, this.clock() - GATEWAY_TTL_MS, '+inf');
    return live.filter((id) => id !== this.id);
  }

  /**
   * `fn`'s activity over every gateway: calls in flight added up, the latest start of any.
   * Rejects when Redis cannot answer: the caller must then not act on a partial view.
   */
  async of(fn: string, others: readonly string[]): Promise<Activity> {
    const here = this.local.of(fn);
    const batch = this.redis.pipeline().zscore(this.lastStartedKey, fn);
    for (const id of others) batch.hget(this.inflightKey(id), fn);
    const rows = (await batch.exec()) ?? [];
    let inFlight = here.inFlight;
    let lastStarted = here.lastStarted;
    for (const [i, [err, value]] of rows.entries()) {
      if (err) throw err;
      if (i === 0) lastStarted = Math.max(lastStarted, Number(value ?? 0));
      else inFlight += Number(value ?? 0);
    }
    return { inFlight, lastStarted };
  }

  /** Stops publishing and withdraws this gateway's calls in flight (a clean stop has none left). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flushing;
    await this.redis.multi().del(this.inflightKey(this.id)).zrem(this.gatewaysKey, this.id).exec().catch(this.onError);
  }
}
