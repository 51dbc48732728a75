// This gateway's share of each function's load, as the proxy sees it: calls started and the
// time-integral of calls in flight, accumulated as plain numbers on the hot path and taken
// (and reset) by shared-load.ts, which adds them to Redis once per flush.
import type { CallObserver } from '../proxy-call.js';

interface Counts {
  started: number;
  inflight: number;
  /** Σ in-flight × ms since the last take: the average in flight is this / elapsed ms. */
  inflightMs: number;
  /** When `inflight` last changed or the counts were last taken. */
  mark: number;
}

/** One function's load since the previous take. */
export interface LoadSample {
  fn: string;
  started: number;
  /** Calls in flight integrated over time, in call-seconds (1 call held for 1 s = 1). */
  inflightSeconds: number;
}

export class CallLoad implements CallObserver {
  private readonly byFn = new Map<string, Counts>();

  constructor(private readonly clock: () => number = Date.now) {}

  started(fn: string): void {
    const now = this.clock();
    let c = this.byFn.get(fn);
    if (c === undefined) {
      c = { started: 0, inflight: 0, inflightMs: 0, mark: now };
      this.byFn.set(fn, c);
    }
    c.inflightMs += c.inflight * (now - c.mark);
    c.mark = now;
    c.started++;
    c.inflight++;
  }

  called(fn: string): void {
    const c = this.byFn.get(fn);
    if (c === undefined || c.inflight === 0) return;
    const now = this.clock();
    c.inflightMs += c.inflight * (now - c.mark);
    c.mark = now;
    c.inflight--;
  }

  /** Calls in flight now, per function (for the status). */
  inflight(fn: string): number {
    return this.byFn.get(fn)?.inflight ?? 0;
  }

  /** The load since the previous take, for every function that had any; resets the counts. */
  take(): LoadSample[] {
    const now = this.clock();
    const out: LoadSample[] = [];
    for (const [fn, c] of this.byFn) {
      c.inflightMs += c.inflight * (now - c.mark);
      c.mark = now;
      if (c.started > 0 || c.inflightMs > 0) out.push({ fn, started: c.started, inflightSeconds: c.inflightMs / 1000 });
      c.started = 0;
      c.inflightMs = 0;
      // A function with nothing in flight and nothing started is dropped, so removed ones do not linger.
      if (c.inflight === 0) this.byFn.delete(fn);
    }
    return out;
  }
}
