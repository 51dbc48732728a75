// Scales a function labelled com.openfaas.scale.zero=true to zero once no call has started
// for its com.openfaas.scale.zero-duration and none is in flight, and never while the waker
// is bringing it back. Each transition is logged once, not on every tick.
// With several gateways, calls are counted over all of them (shared-activity.ts) and one
// idler decides for the installation: the gateway holding the lease.
import type { Logger } from '../../../shared/logger.js';
import type { Lease } from '../autoscale/lease.js';
import { parseScaleLabels } from '../providers/policy.js';
import type { FunctionStatus, Provider } from '../providers/provider.js';
import { ACTIVITY_CONFIRM_MS, type SharedActivity } from './shared-activity.js';

export interface IdlerOptions {
  provider: Provider;
  activity: SharedActivity;
  /** Held by the one gateway whose idler decides. */
  lease: Lease;
  isWaking: (fn: string) => boolean;
  tickMs: number;
  log: Logger;
  now?: () => number;
}

export class Idler {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  /** Functions whose last scale-down failed: said once, until one succeeds. */
  private readonly failing = new Set<string>();
  /** Functions seen quiet while other gateways publish: scaled only when a later look agrees. */
  private readonly quiet = new Map<string, { at: number; lastStarted: number }>();
  private deciding = false;
  private redisDown = false;
  private readonly now: () => number;

  constructor(private readonly opts: IdlerOptions) {
    this.now = opts.now ?? Date.now;
  }

  start(): void {
    this.timer = setInterval(() => {
      // A slow tick (many functions, a busy engine) is never overlapped by the next one.
      this.running ??= this.tick().finally(() => (this.running = undefined));
    }, this.opts.tickMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    if (this.deciding) await this.opts.lease.release().catch(() => undefined);
  }

  /** One look at every function, by the deciding gateway only. */
  async tick(): Promise<void> {
    const { provider, log } = this.opts;
    let others: string[];
    try {
      const deciding = await this.opts.lease.hold();
      if (deciding !== this.deciding) log.info({ id: this.opts.activity.id }, deciding ? 'this gateway now decides scale to zero' : 'another gateway decides scale to zero');
      this.deciding = deciding;
      if (!deciding) return;
      others = await this.opts.activity.others();
      if (this.redisDown) log.info('Redis is back: functions go to zero again');
      this.redisDown = false;
    } catch (err) {
      // Without Redis, calls through other gateways are unknown: nothing goes to zero.
      if (!this.redisDown) log.warn({ err }, 'Redis unreachable: no function goes to zero until it is back');
      this.redisDown = true;
      return;
    }
    for (const namespace of await provider.namespaces()) {
      for (const status of await provider.list(namespace)) await this.consider(status, others);
    }
  }

  private async consider(status: FunctionStatus, others: readonly string[]): Promise<void> {
    const fn = `${status.name}.${status.namespace}`;
    if (status.replicas === 0) return;
    let zero: boolean;
    let durationMs: number;
    try {
      ({ zero, zeroDurationMs: durationMs } = parseScaleLabels(status.labels));
    } catch {
      return; // deploys refuse malformed labels; one changed behind the gateway's back is left alone
    }
    if (!zero) return;
    let activity;
    try {
      activity = await this.opts.activity.of(fn, others);
    } catch {
      return; // Redis failed mid-tick: the next tick says so if it lasts
    }
    const now = this.now();
    const idleMs = now - activity.lastStarted;
    if (activity.inFlight > 0 || this.opts.isWaking(fn) || idleMs < durationMs) return void this.quiet.delete(fn);
    if (others.length > 0) {
      // What other gateways published may miss a call they started since: look again once
      // each has published after this look, and act only if it is still as quiet.
      const seen = this.quiet.get(fn);
      if (seen === undefined || seen.lastStarted !== activity.lastStarted) return void this.quiet.set(fn, { at: now, lastStarted: activity.lastStarted });
      if (now - seen.at < ACTIVITY_CONFIRM_MS) return;
    }
    this.quiet.delete(fn);
    try {
      await this.opts.provider.scale(status.name, status.namespace, 0);
      this.failing.delete(fn);
      this.opts.log.info({ fn, idleMs }, 'scaled to zero: no call for com.openfaas.scale.zero-duration');
    } catch (err) {
      if (!this.failing.has(fn)) this.opts.log.warn({ fn, err }, 'could not scale to zero; will try again');
      this.failing.add(fn);
    }
  }
}
