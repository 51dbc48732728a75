// Scales a function labelled com.openfaas.scale.zero=true to zero once no call has started
// for its com.openfaas.scale.zero-duration and none is in flight, and never while the waker
// is bringing it back. Each transition is logged once, not on every tick.
import type { Logger } from '../../../shared/logger.js';
import { parseScaleLabels } from '../providers/policy.js';
import type { FunctionStatus, Provider } from '../providers/provider.js';
import type { CallActivity } from './call-activity.js';

export interface IdlerOptions {
  provider: Provider;
  activity: CallActivity;
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
  }

  /** One look at every function; exported for tests that drive the clock. */
  async tick(): Promise<void> {
    const { provider } = this.opts;
    for (const namespace of await provider.namespaces()) {
      for (const status of await provider.list(namespace)) await this.consider(status);
    }
  }

  private async consider(status: FunctionStatus): Promise<void> {
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
    const activity = this.opts.activity.of(fn);
    if (activity.inFlight > 0 || this.opts.isWaking(fn)) return;
    const idleMs = this.now() - activity.lastStarted;
    if (idleMs < durationMs) return;
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
