// Rate, error rate and latency per function for the dashboard, told of every call by the
// gateway's proxy (the dashboard's CallListener, host.ts). The proxy's hot path calls called() once per answered
// call, so it is O(1) and allocates nothing: per function a ring of 5-second buckets, each
// with a call count, an error (5xx) count and a latency histogram, all in typed arrays made
// once when the function is first seen. Memory is bounded: a fixed ring per function and at
// most MAX_FUNCTIONS functions (idle ones are dropped when read). The figures are this
// gateway process's only: another gateway's calls are not in them, and a restart empties them.
import type { CallListener } from './host.js';

export const BUCKET_MS = 5000;
/** Buckets kept: 36 x 5 s = the last 3 minutes, the chart's span. */
export const BUCKETS = 36;
/** The figures (rate, error rate, p50, p99) cover the last minute. */
export const FIGURE_BUCKETS = 12;
/** Histogram bins: three a doubling (each bin 26% wider than the one before), 1 ms to about 65 s. */
const BINS_PER_DOUBLING = 3;
const BINS = 16 * BINS_PER_DOUBLING + 1;
/** More functions than this are not tracked (a bound on memory, not a limit anyone should reach). */
export const MAX_FUNCTIONS = 5000;

/** A bin's upper edge in ms: the value a quantile in that bin is reported as (never below the truth). */
const BIN_UPPER_MS = Array.from({ length: BINS }, (_, b) => (b === 0 ? 1 : Math.round(2 ** (b / BINS_PER_DOUBLING))));

function binOf(ms: number): number {
  if (ms <= 1) return 0;
  const bin = Math.ceil(Math.log2(ms) * BINS_PER_DOUBLING);
  return bin < BINS ? bin : BINS - 1;
}

class FunctionRing {
  readonly calls = new Uint32Array(BUCKETS);
  readonly errors = new Uint32Array(BUCKETS);
  readonly histogram = new Uint32Array(BUCKETS * BINS);
  /** The absolute bucket number (time / BUCKET_MS) of the newest bucket written. */
  head = 0;

  /** Moves the ring forward to `bucket`, clearing the buckets skipped over. */
  advance(bucket: number): void {
    if (bucket <= this.head) return;
    const steps = Math.min(bucket - this.head, BUCKETS);
    for (let i = 1; i <= steps; i++) {
      const slot = (this.head + i) % BUCKETS;
      this.calls[slot] = 0;
      this.errors[slot] = 0;
      this.histogram.fill(0, slot * BINS, slot * BINS + BINS);
    }
    this.head = bucket;
  }
}

export interface CallFigures {
  /** Calls in the last minute. */
  calls: number;
  /** Calls a second over the last minute. */
  rate: number;
  /** Share of the last minute's calls answered 5xx (0 to 1); null without calls. */
  errorRate: number | null;
  /** Latency quantiles over the last minute in ms (a histogram bin's upper edge); null without calls. */
  p50Ms: number | null;
  p99Ms: number | null;
}

export interface CallPoint {
  /** ISO start of the 5-second bucket. */
  at: string;
  calls: number;
  errors: number;
  /** Calls a second in the bucket. */
  rate: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

export class CallStats implements CallListener {
  private readonly rings = new Map<string, FunctionRing>();

  constructor(private readonly now: () => number = Date.now) {}

  called(fn: string, status: number, ms: number): void {
    let ring = this.rings.get(fn);
    if (ring === undefined) {
      if (this.rings.size >= MAX_FUNCTIONS && !this.dropIdle()) return;
      ring = new FunctionRing();
      ring.head = Math.floor(this.now() / BUCKET_MS);
      this.rings.set(fn, ring);
    }
    const bucket = Math.floor(this.now() / BUCKET_MS);
    ring.advance(bucket);
    // A call finishing just after the ring moved on belongs to the newest bucket anyway.
    const slot = ring.head % BUCKETS;
    ring.calls[slot]++;
    if (status >= 500) ring.errors[slot]++;
    ring.histogram[slot * BINS + binOf(ms)]++;
  }

  /** The last minute's figures of one function (zeros when it had no calls). */
  figures(name: string, namespace: string): CallFigures {
    const ring = this.current(name, namespace);
    if (!ring) return { calls: 0, rate: 0, errorRate: null, p50Ms: null, p99Ms: null };
    const counts = new Uint32Array(BINS);
    let calls = 0;
    let errors = 0;
    for (let i = 0; i < FIGURE_BUCKETS; i++) {
      const slot = (ring.head - i + BUCKETS) % BUCKETS;
      calls += ring.calls[slot];
      errors += ring.errors[slot];
      for (let b = 0; b < BINS; b++) counts[b] += ring.histogram[slot * BINS + b];
    }
    return {
      calls,
      rate: calls / ((FIGURE_BUCKETS * BUCKET_MS) / 1000),
      errorRate: calls ? errors / calls : null,
      p50Ms: quantile(counts, calls, 0.5),
      p99Ms: quantile(counts, calls, 0.99),
    };
  }

  /** The last 3 minutes of one function, oldest first, one point per 5-second bucket. */
  series(name: string, namespace: string): CallPoint[] {
    const ring = this.current(name, namespace);
    const head = ring?.head ?? Math.floor(this.now() / BUCKET_MS);
    const points: CallPoint[] = [];
    for (let i = BUCKETS - 1; i >= 0; i--) {
      const slot = (head - i + BUCKETS) % BUCKETS;
      const calls = ring ? ring.calls[slot] : 0;
      const bins = ring ? ring.histogram.subarray(slot * BINS, slot * BINS + BINS) : new Uint32Array(BINS);
      points.push({
        at: new Date((head - i) * BUCKET_MS).toISOString(),
        calls,
        errors: ring ? ring.errors[slot] : 0,
        rate: calls / (BUCKET_MS / 1000),
        p50Ms: quantile(bins, calls, 0.5),
        p99Ms: quantile(bins, calls, 0.99),
      });
    }
    return points;
  }

  /** Drops rings without a call in the whole ring; rare (only when the map is full), so O(n) is fine. */
  private dropIdle(): boolean {
    const now = Math.floor(this.now() / BUCKET_MS);
    for (const [fn, ring] of this.rings) if (now - ring.head >= BUCKETS) this.rings.delete(fn);
    return this.rings.size < MAX_FUNCTIONS;
  }

  /** A function's ring moved up to now, or undefined (and dropped) when it had no call in the whole ring. */
  private current(name: string, namespace: string): FunctionRing | undefined {
    const fn = `${name}.${namespace}`;
    const ring = this.rings.get(fn);
    if (!ring) return undefined;
    const now = Math.floor(this.now() / BUCKET_MS);
    if (now - ring.head >= BUCKETS) {
      this.rings.delete(fn);
      return undefined;
    }
    ring.advance(now);
    return ring;
  }
}

/** The value at quantile q (nearest rank) of a histogram holding `total` values. */
function quantile(counts: Uint32Array, total: number, q: number): number | null {
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let b = 0; b < counts.length; b++) {
    seen += counts[b];
    if (seen >= rank) return BIN_UPPER_MS[b];
  }
  return BIN_UPPER_MS[counts.length - 1];
}
