// The wake-from-zero table of `npm run bench:scale`: per function and keep mode, p50, p99,
// min and max, whether p50 meets the goal, and the ratio of p50 to the same function's
// `removed` p50 from the same run (create + start: what a scale from zero that keeps
// nothing costs), so a figure taken under another load still reads against its baseline.
// Two more columns split the p50 at the engine's start/unpause event (wake-events.ts): call
// to container running, and running to answer.
import type { WakeSeries } from './wake-measure.js';

/** Issue 10 §4: p50 at most 300 ms on Docker. */
export const GOAL_P50_MS = 300;

/** Nearest-rank quantile of sorted figures (p99 of 20 is the largest). */
export function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export interface WakeSummary {
  fn: string;
  mode: string;
  floor?: true;
  n: number;
  p50: number;
  p99: number;
  min: number;
  max: number;
  /** p50 of call to replica running, and of running to answer, over the wakes where the engine's event was found. */
  toRunningP50?: number;
  afterRunningP50?: number;
  /** p50 / p50 of `removed` for the same function; undefined when there is no such series (not run, or an engine floor). */
  vsRemoved?: number;
}

export function summarize(series: WakeSeries[]): WakeSummary[] {
  const rows = series.map((s) => {
    const sorted = [...s.times].sort((a, b) => a - b);
    const known = s.times.flatMap((ms, i) => (s.toRunning[i] === undefined ? [] : [{ to: s.toRunning[i]!, after: ms - s.toRunning[i]! }]));
    const split =
      known.length === 0
        ? {}
        : {
            toRunningP50: quantile(known.map((k) => k.to).sort((a, b) => a - b), 0.5),
            afterRunningP50: quantile(known.map((k) => k.after).sort((a, b) => a - b), 0.5),
          };
    return { fn: s.fn, mode: s.mode, ...(s.floor ? { floor: s.floor } : {}), n: sorted.length, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), min: sorted[0], max: sorted.at(-1)!, ...split };
  });
  return rows.map((r) => {
    const removed = rows.find((o) => o.fn === r.fn && o.mode === 'removed');
    return removed ? { ...r, vsRemoved: r.p50 / removed.p50 } : r;
  });
}

export function formatWakeTable(rows: WakeSummary[]): string {
  const head = ['function', 'mode', 'wakes', 'p50 ms', 'p99 ms', 'min ms', 'max ms', `goal p50 <= ${GOAL_P50_MS}`, 'p50 / removed', 'to running p50', 'running to answer p50'];
  const body = rows.map((r) => [
    r.fn,
    r.mode,
    String(r.n),
    r.p50.toFixed(0),
    r.p99.toFixed(0),
    r.min.toFixed(0),
    r.max.toFixed(0),
    r.p50 <= GOAL_P50_MS ? 'met' : 'missed',
    r.vsRemoved === undefined ? '-' : `${r.vsRemoved.toFixed(2)}x`,
    r.toRunningP50 === undefined ? '-' : r.toRunningP50.toFixed(0),
    r.afterRunningP50 === undefined ? '-' : r.afterRunningP50.toFixed(0),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  return [head, ...body].map((cells) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}
