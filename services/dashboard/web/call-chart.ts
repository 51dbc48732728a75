// A function's call figures (rate, error rate, p50 / p99 over the last minute) and a small
// SVG chart of its rate and p50 latency over the last 3 minutes, drawn by hand: no library.
import { h, replace } from './dom.js';
import type { CallFigures, CallPoint } from '../call-stats.js';

export type { CallFigures, CallPoint };

export const formatRate = (rate: number) => `${rate >= 10 ? rate.toFixed(0) : rate.toFixed(2)}/s`;
export const formatErrorRate = (f: CallFigures) => (f.errorRate === null ? '—' : `${Math.round(f.errorRate * 1000) / 10}%`);
export const formatMs = (ms: number | null) => (ms === null ? '—' : ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms} ms`);

const SVG = 'http://www.w3.org/2000/svg';
const W = 1000;
const H = 140;
const PAD = 4;

function svg(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** A polyline of values scaled to the chart's height; gaps (null) break nothing, they draw at 0. */
function line(values: (number | null)[], max: number, cls: string): SVGElement {
  const step = (W - 2 * PAD) / Math.max(values.length - 1, 1);
  const points = values.map((v, i) => `${(PAD + i * step).toFixed(1)},${(H - PAD - ((v ?? 0) / max) * (H - 2 * PAD)).toFixed(1)}`);
  return svg('polyline', { points: points.join(' '), class: cls, fill: 'none' });
}

function chart(series: CallPoint[]): SVGElement {
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': 'rate and p50 latency, last 3 minutes' });
  const maxRate = Math.max(...series.map((p) => p.rate), 0.2);
  const maxMs = Math.max(...series.map((p) => p.p50Ms ?? 0), 1);
  root.append(
    svg('line', { x1: PAD, y1: H - PAD, x2: W - PAD, y2: H - PAD, class: 'axis' }),
    line(series.map((p) => p.rate), maxRate, 'rate'),
    line(series.map((p) => p.p50Ms), maxMs, 'latency'),
  );
  return root;
}

/** The legend under the chart: each line's scale (both start at 0) and the time span. */
function legend(series: CallPoint[]): HTMLElement {
  const maxRate = Math.max(...series.map((p) => p.rate), 0.2);
  const maxMs = Math.max(...series.map((p) => p.p50Ms ?? 0), 1);
  return h(
    'p',
    { class: 'legend small' },
    h('span', { class: 'rate' }, `— rate, top ${formatRate(maxRate)}`),
    h('span', { class: 'latency' }, `— p50 latency, top ${formatMs(maxMs)}`),
    h('span', { class: 'muted' }, '3 minutes ago → now, 5-second steps'),
  );
}

/** The panel; update() redraws it from a fresh read of the function. */
export function callPanel(): { el: HTMLElement; update(figures: CallFigures, series: CallPoint[]): void } {
  const figures = h('dl', { id: 'call-figures' });
  const drawing = h('div', { id: 'call-chart' });
  const el = h('section', { class: 'card' }, h('h2', {}, 'Calls through this gateway (last minute)'), figures, drawing, h('p', { class: 'muted small' }, 'These figures are this gateway process’s: calls through other gateways are not in them, and a restart clears them.'));
  return {
    el,
    update(f, series) {
      replace(
        figures,
        h('dt', {}, 'Calls'), h('dd', { id: 'figure-calls' }, f.calls),
        h('dt', {}, 'Rate'), h('dd', { id: 'figure-rate' }, formatRate(f.rate)),
        h('dt', {}, 'Error rate'), h('dd', { id: 'figure-error-rate', class: f.errorRate ? 'bad' : '' }, formatErrorRate(f)),
        h('dt', {}, 'p50 / p99'), h('dd', { id: 'figure-latency' }, `${formatMs(f.p50Ms)} / ${formatMs(f.p99Ms)}`),
      );
      drawing.replaceChildren(chart(series), legend(series));
    },
  };
}
