// The wake-from-zero table of `npm run bench:scale`: per function and keep mode, p50, p99,
// min and max, whether p50 meets the goal, and the ratio of p50 to the same function's
// `removed` p50 from the same run (create + start: what a scale from zero that keeps
// nothing costs), so a figure taken under another load still reads against its baseline.
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
  n: number;
  p50: number;
  p99: number;
  min: number;
  max: number;
  /** p50 / p50 of `removed` for the same function; undefined when removed was not measured. */
  vsRemoved?: number;
}

export function summarize(series: WakeSeries[]): WakeSummary[] {
  const rows = series.map((s) => {
    const sorted = [...s.times].sort((a, b) => a - b);
    return { fn: s.fn, mode: s.mode, n: sorted.length, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), min: sorted[0], max: sorted.at(-1)! };
  });
  return rows.map((r) => {
    const removed = rows.find((o) => o.fn === r.fn && o.mode === 'removed');
    return removed ? { ...r, vsRemoved: r.p50 / removed.p50 } : r;
  });
}

export function formatWakeTable(rows: WakeSummary[]): string {
  const head = ['function', 'mode', 'wakes', 'p50 ms', 'p99 ms', 'min ms', 'max ms', `goal p50 <= ${GOAL_P50_MS}`, 'p50 / removed'];
  const body = rows.map((r) => [
    r.fn,
    r.mode,
    String(r.n),
    r.p50.toFixed(0),
    r.p99.toFixed(0),
    r.min.toFixed(0),
    r.max.toFixed(0),
    r.p50 <= GOAL_P50_MS ? 'met' : 'missed',
    r.vsRemoved === undefined ? '(removed not run)' : `${r.vsRemoved.toFixed(2)}x`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  return [head, ...body].map((cells) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}
