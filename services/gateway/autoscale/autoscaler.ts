// The autoscaler loop. Every tick the gateway holding the lease reads each function's policy
// (com.openfaas.scale.* labels) and status from the provider, its load summed over all
// gateways from Redis, decides (decide.ts) and scales through the provider contract. Every
// decision is written to Redis, so any gateway's GET /system/function/<name> explains it, and
// logged once when it changes, not on every tick.
import type { Redis } from 'ioredis';
import type { Logger } from '../../../shared/logger.js';
import { parseScaleLabels, type ScalePolicy } from '../providers/policy.js';
import type { FunctionStatus, Provider } from '../providers/provider.js';
import type { AutoscaleSettings } from './config.js';
import { decide, type Need } from './decide.js';
import { Lease } from './lease.js';
import type { SharedLoad } from './shared-load.js';

/** The label the deployer sets on functions built from an owner's repository: the quota applies. */
const OWNER_LABEL = 'com.openfaas.cloud.git-owner';

/** What GET /system/function/<name> shows under `autoscaling`. */
export interface Explanation {
  type: ScalePolicy['type'];
  target: number;
  proportion: number;
  min: number;
  max: number;
  /** The replica limit that applies: GITFAAS_MAX_REPLICAS, or the owner's quota when lower. */
  limit: number;
  /** Average load over the panic window, summed over all gateways (undefined: not measurable). */
  load?: number;
  /** What the function should have now. */
  desired: number;
  reason: string;
  decidedAt: string;
  /** The gateway holding the lease. */
  decidedBy: string;
  /** The last time the autoscaler changed the replica count. */
  lastScale?: { from: number; to: number; reason: string; at: string };
}

interface FunctionState {
  since: number;
  history: Need[];
  lastScale?: Explanation['lastScale'];
  /** The count last seen or set by the autoscaler: another value was set by someone else. */
  seen?: number;
  /** What was last logged: logs say a decision when it changes. */
  logged?: string;
  scaling?: Promise<void>;
}

export interface AutoscalerOptions {
  provider: Provider;
  redis: Redis;
  load: SharedLoad;
  settings: AutoscaleSettings;
  /** GITFAAS_MAX_REPLICAS. */
  maxReplicas: number;
  /** Keys prefix: <queue prefix>:autoscale:<instance>. */
  prefix: string;
  /** This gateway's id in the lease and the explanations. */
  id: string;
  log: Logger;
}

export class Autoscaler {
  private readonly lease: Lease;
  private readonly states = new Map<string, FunctionState>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private leading = false;
  private failing = false;

  constructor(private readonly opts: AutoscalerOptions) {
    // Three ticks without renewal (at least 3 s) hand the lease to another gateway.
    this.lease = new Lease(opts.redis, `${opts.prefix}:leader`, opts.id, Math.max(3 * opts.settings.tickMs, 3_000));
  }

  start(): void {
    this.timer ??= setInterval(() => void this.tick(), this.opts.settings.tickMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
    await Promise.all([...this.states.values()].map((s) => s.scaling));
    if (this.leading) await this.lease.release().catch(() => undefined);
  }

  /** The explanation of the function's last decision, from Redis (whichever gateway decided). */
  async explain(name: string, namespace: string): Promise<Explanation | undefined> {
    const text = await this.opts.redis.get(this.statusKey(`${name}.${namespace}`));
    return text ? (JSON.parse(text) as Explanation) : undefined;
  }

  private statusKey(fn: string): string {
    return `${this.opts.prefix}:status:${fn}`;
  }

  /** One pass over every function; a tick still running when the next is due is not doubled. */
  tick(): Promise<void> {
    return (this.ticking ??= this.pass()
      .then(() => {
        if (this.failing) this.opts.log.info('autoscaler recovered');
        this.failing = false;
      })
      .catch((err) => {
        if (!this.failing) this.opts.log.warn({ err }, 'autoscaler tick failed; replica counts are held until it recovers');
        this.failing = true;
      })
      .finally(() => (this.ticking = undefined)));
  }

  private async pass(): Promise<void> {
    const leading = await this.lease.hold();
    if (leading !== this.leading) this.opts.log.info({ id: this.opts.id }, leading ? 'autoscaler: this gateway decides' : 'autoscaler: another gateway decides');
    this.leading = leading;
    if (!leading) {
      // A later leadership starts afresh: no scale-down before a whole stable window is watched.
      this.states.clear();
      return;
    }
    const seen = new Set<string>();
    for (const namespace of await this.opts.provider.namespaces()) {
      for (const f of await this.opts.provider.list(namespace)) {
        const fn = `${f.name}.${f.namespace}`;
        seen.add(fn);
        await this.decideOne(fn, f);
      }
    }
    for (const fn of this.states.keys()) if (!seen.has(fn)) this.states.delete(fn);
  }

  private async decideOne(fn: string, f: FunctionStatus): Promise<void> {
    const { settings } = this.opts;
    const now = Date.now();
    let state = this.states.get(fn);
    if (state === undefined) {
      state = { since: now, history: [] };
      this.states.set(fn, state);
    }
    if (state.scaling) return; // the previous decision is still being carried out
    // A count set by someone else (the scale API, the waker) is kept for a whole stable
    // window before the autoscaler scales it down: a fresh watch.
    if (state.seen !== undefined && state.seen !== f.replicas) {
      state.since = now;
      state.history = [];
    }
    state.seen = f.replicas;
    const owned = f.labels?.[OWNER_LABEL] !== undefined && settings.quotaReplicas < this.opts.maxReplicas;
    const limit = owned ? settings.quotaReplicas : this.opts.maxReplicas;
    const limitName = owned ? 'the quota replicasPerFunction (GITFAAS_QUOTA_REPLICAS)' : 'GITFAAS_MAX_REPLICAS';
    let policy: ScalePolicy;
    try {
      policy = parseScaleLabels(f.labels);
    } catch (err) {
      return this.record(fn, state, undefined, { desired: f.replicas, reason: `${(err as Error).message}: holding ${f.replicas}`, limit });
    }
    const load = await this.measure(fn, f, policy);
    if (load === undefined) {
      const reason = `type cpu: the ${this.opts.provider.info.name} provider reports no CPU usage (not supported there); holding ${f.replicas}`;
      return this.record(fn, state, policy, { desired: f.replicas, reason, limit });
    }
    const d = decide({ policy, limit, limitName, desired: f.replicas, ready: f.availableReplicas, panicLoad: load, history: state.history, since: state.since, now, stableWindowMs: settings.stableWindowMs });
    state.history = d.history;
    if (d.replicas !== f.replicas) {
      const from = f.replicas;
      const to = d.replicas;
      state.seen = to;
      state.lastScale = { from, to, reason: d.reason, at: new Date(now).toISOString() };
      const scaling = this.opts.provider
        .scale(f.name, f.namespace, to)
        .catch((err) => {
          this.opts.log.warn({ fn, from, to, err }, 'autoscaler: scaling failed');
          if (state.lastScale) state.lastScale.reason += ` (failed: ${(err as Error).message})`;
        })
        .finally(() => (state.scaling = undefined));
      state.scaling = scaling;
    }
    await this.record(fn, state, policy, { desired: d.replicas, reason: d.reason, limit, load });
  }

  /** The function's load over the panic window, in the unit of its scale type. */
  private async measure(fn: string, f: FunctionStatus, policy: ScalePolicy): Promise<number | undefined> {
    if (policy.type === 'cpu') return f.usage?.cpu;
    const load = await this.opts.load.read(fn, this.opts.settings.panicWindowMs);
    return policy.type === 'rps' ? load.rps : load.inflight;
  }

  private async record(fn: string, state: FunctionState, policy: ScalePolicy | undefined, d: { desired: number; reason: string; limit: number; load?: number }): Promise<void> {
    const p = policy ?? { type: 'rps', target: 0, proportion: 0, min: 0, max: 0 };
    const explanation: Explanation = {
      type: p.type,
      target: p.target,
      proportion: p.proportion,
      min: p.min,
      max: p.max,
      limit: d.limit,
      load: d.load === undefined ? undefined : Math.round(d.load * 100) / 100,
      desired: d.desired,
      reason: d.reason,
      decidedAt: new Date().toISOString(),
      decidedBy: this.opts.id,
      lastScale: state.lastScale,
    };
    // Logged when what is decided changes (the replica count, or why it is held), not each tick.
    const said = `${d.desired} ${d.reason.replace(/[\d.]+/g, '#')}`;
    if (said !== state.logged) {
      state.logged = said;
      this.opts.log.info({ fn, desired: d.desired, load: explanation.load, type: p.type }, `autoscaler: ${d.reason}`);
    }
    const ttl = Math.max(10 * this.opts.settings.tickMs, 30_000);
    await this.opts.redis.set(this.statusKey(fn), JSON.stringify(explanation), 'PX', ttl);
  }
}
