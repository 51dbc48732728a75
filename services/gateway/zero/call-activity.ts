// Per-function call activity for the idler: calls in flight and when the last one started.
// An idler that only counted finished calls would scale a function down under a long call
// (OpenFaaS's idler once did); counting from `started` to `called` closes that gap.
import type { CallObserver } from '../proxy-call.js';

export interface Activity {
  inFlight: number;
  /** Date.now() of the last call that started (or of the first look, for a quiet function). */
  lastStarted: number;
}

/** One function's record: `called` tells a start seen here from the first look's time. */
export interface LocalActivity extends Activity {
  called: boolean;
}

export class CallActivity implements CallObserver {
  private readonly byFn = new Map<string, LocalActivity>();

  constructor(private readonly now: () => number = Date.now) {}

  started(fn: string): void {
    const a = this.byFn.get(fn);
    if (a === undefined) this.byFn.set(fn, { inFlight: 1, lastStarted: this.now(), called: true });
    else {
      a.inFlight++;
      a.lastStarted = this.now();
      a.called = true;
    }
  }

  called(fn: string): void {
    const a = this.byFn.get(fn);
    if (a !== undefined && a.inFlight > 0) a.inFlight--;
  }

  /**
   * The function's activity; a function never called here counts as quiet from now on, so
   * a freshly started gateway waits a full zero-duration before scaling anything down.
   */
  of(fn: string): Activity {
    let a = this.byFn.get(fn);
    if (a === undefined) {
      a = { inFlight: 0, lastStarted: this.now(), called: false };
      this.byFn.set(fn, a);
    }
    return a;
  }

  /** Every function looked at or called here (shared with other gateways by shared-activity.ts). */
  entries(): IterableIterator<[string, LocalActivity]> {
    return this.byFn.entries();
  }

  forget(fn: string): void {
    this.byFn.delete(fn);
  }
}
