// Holds calls to a function with no ready replica instead of refusing them: a function at
// zero desired replicas is scaled to one (one wake for any number of calls), and every held
// call is proxied once a replica answers. Held calls are bounded twice: a per-function
// queue limit (answered 503 at once, with Retry-After, so the queue-worker retries) and the
// function timeout (504). A wake that fails (image gone, crash loop) answers every held
// call 502 with the backend's reason, as soon as the backend gives up.
import type { ServerResponse } from 'node:http';
import type { Logger } from '../../../shared/logger.js';
import { ProviderError, type Endpoint, type Provider } from '../providers/provider.js';

/** One call the proxy hands over because its function has no ready replica. */
export interface HeldCall {
  name: string;
  namespace: string;
  /** "name.namespace" */
  fn: string;
  res: ServerResponse;
  /** Proxies the call to these ready endpoints. */
  resume(endpoints: readonly Endpoint[]): void;
  /** Answers for the gateway (the proxy tells its observers); 499 when nobody is left to answer. */
  refuse(status: number, text: string, retryAfterSeconds?: number): void;
}

export interface WakerOptions {
  provider: Provider;
  /** GITFAAS_WAKE_QUEUE_LIMIT */
  queueLimit: number;
  /** The function timeout: the longest a call is held. */
  timeoutMs: number;
  log: Logger;
}

interface Wake {
  held: number;
  ready: Promise<readonly Endpoint[]>;
}

/** The wake outlasted the function timeout: held calls get 504, like their own timers give. */
class WakeTimeout extends Error {
  override name = 'WakeTimeout';
}

export class Waker {
  private readonly wakes = new Map<string, Wake>();
  private woken = 0;

  constructor(private readonly opts: WakerOptions) {}

  /** True while a wake of this function is under way: the idler leaves it alone. */
  isWaking(fn: string): boolean {
    return this.wakes.has(fn);
  }

  /** Wakes started since this gateway started (tests: many calls, one wake). */
  get wakeCount(): number {
    return this.woken;
  }

  hold(call: HeldCall): void {
    const { fn, res } = call;
    let wake = this.wakes.get(fn);
    if (wake === undefined) {
      wake = { held: 0, ready: this.wake(call.name, call.namespace, fn) };
      const started = wake;
      this.wakes.set(fn, started);
      void started.ready.catch(() => undefined).then(() => this.wakes.get(fn) === started && this.wakes.delete(fn));
    }
    if (wake.held >= this.opts.queueLimit) {
      return call.refuse(503, `function "${fn}" was waking from zero and already holds ${this.opts.queueLimit} calls (GITFAAS_WAKE_QUEUE_LIMIT); try again shortly\n`, 1);
    }
    const w = wake;
    w.held++;
    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      w.held--;
      clearTimeout(timer);
      res.off('close', onClose);
      return true;
    };
    const timer = setTimeout(() => {
      if (settle()) call.refuse(504, `function "${fn}" was waking from zero and had no ready replica within ${this.opts.timeoutMs / 1000} s\n`);
    }, this.opts.timeoutMs);
    const onClose = (): void => {
      if (settle()) call.refuse(499, '');
    };
    res.once('close', onClose);
    w.ready.then(
      (endpoints) => {
        if (settle()) call.resume(endpoints);
      },
      (err: Error) => {
        if (err instanceof WakeTimeout) {
          if (settle()) call.refuse(504, `function "${fn}" was waking from zero and had no ready replica within ${this.opts.timeoutMs / 1000} s\n`);
          return;
        }
        // The first line is the reason (crash-output.ts puts the error line there); the
        // container's full output stays in the gateway's log and /system/logs.
        if (settle()) call.refuse(502, `function "${fn}" was waking from zero and could not start: ${err.message.split('\n')[0]}\n`);
      },
    );
  }

  private async wake(name: string, namespace: string, fn: string): Promise<readonly Endpoint[]> {
    const { provider, log } = this.opts;
    const status = await provider.get(name, namespace);
    if (status === undefined) throw new Error(`function "${fn}" was removed`);
    const deadline = Date.now() + this.opts.timeoutMs;
    if (status.replicas > 0) return this.ready(name, namespace, deadline, undefined);
    this.woken++;
    const t0 = Date.now();
    log.info({ fn }, 'waking function from zero');
    // The scale settles after the replica answers and the backend has tidied up (a parked
    // container removed): the calls go as soon as the replica is ready, not after that.
    const scaled = provider.scale(name, namespace, 1);
    const endpoints = await this.ready(name, namespace, deadline, scaled);
    log.info({ fn, ms: Date.now() - t0 }, 'function woken');
    return endpoints;
  }

  /** Ready endpoints as soon as there are some (the provider's readiness wait); rejects when `scaled` fails first. */
  private ready(name: string, namespace: string, deadline: number, scaled: Promise<void> | undefined): Promise<readonly Endpoint[]> {
    const stop = new AbortController();
    const waited = this.opts.provider
      .waitUntilReady(name, namespace, { timeoutMs: Math.max(1, deadline - Date.now()), signal: stop.signal })
      .catch((err: unknown) => {
        if (err instanceof ProviderError && err.code === 'timeout') throw new WakeTimeout(`no replica was ready within ${this.opts.timeoutMs / 1000} s`);
        if (err instanceof ProviderError && err.code === 'not_found') throw new Error(`function "${name}.${namespace}" was removed`);
        throw err;
      });
    if (scaled === undefined) return waited;
    const failed = scaled.then(
      () => new Promise<never>(() => undefined),
      (err: unknown) => {
        stop.abort(err);
        throw err;
      },
    );
    return Promise.race([waited, failed]);
  }
}
