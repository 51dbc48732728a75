// Wake-from-zero timing for `npm run bench:scale`: one gateway per GITFAAS_ZERO_KEEP mode
// (the real Docker provider, in this process), each function deployed in each, then rounds:
// every (mode, function) is scaled to zero at once and seen kept, then each is called in
// turn and timed from sending the call to having its whole answer. Taking every series in
// the same rounds, in a rotating order, exposes them all to the same load on a shared
// machine, which is what makes the ratio to `removed` a fair same-run baseline.
import { startTestGateway, type TestGateway } from '../../test/helpers/gateway.js';
import { waitFor } from '../../test/helpers/wait.js';
import { containers } from '../../test/zero/support.js';
import { replicaStarts, startedAfter, type WakeWindow } from './wake-events.js';
import type { BuiltWakeFunction, WakeFunction } from './wake-functions.js';

export const WAKE_MODES = ['paused', 'stopped', 'removed'] as const;
export type WakeMode = (typeof WAKE_MODES)[number];

/** What a kept replica looks like in each mode once the scale-down is complete. */
const KEPT: Record<WakeMode, string[]> = { paused: ['paused'], stopped: ['exited'], removed: [] };

export interface WakeSeries {
  fn: WakeFunction;
  mode: WakeMode;
  /** Milliseconds of each wake, in the order taken. */
  times: number[];
  /** Of each wake, milliseconds until the engine reported the replica running (wake-events.ts). */
  toRunning: Array<number | undefined>;
}

export function parseWakeModes(text: string): WakeMode[] {
  const modes = text.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = modes.filter((m) => !(WAKE_MODES as readonly string[]).includes(m));
  if (unknown.length > 0 || modes.length === 0) {
    throw new Error(`BENCH_MODES: unknown keep mode "${unknown[0] ?? text}" (expected a comma-separated list of ${WAKE_MODES.join(', ')})`);
  }
  return [...new Set(modes)] as WakeMode[];
}

async function post(gw: TestGateway, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${gw.url}${path}`, { method: 'POST', headers: { authorization: gw.authHeader, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status >= 300) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
}

interface Target {
  gw: TestGateway;
  mode: WakeMode;
  fn: BuiltWakeFunction;
  service: string;
  url: string;
  times: number[];
  windows: WakeWindow[];
}

/** One call, checked: a wake that answers anything but the function's own 200 is a failed bench, not a figure. */
async function timedCall(t: Target, what: string): Promise<WakeWindow> {
  const started = performance.now();
  const res = await fetch(t.url);
  const text = await res.text();
  const ended = performance.now();
  if (res.status !== 200 || !text.includes(t.fn.answer)) {
    throw new Error(`${what} of ${t.fn.name} (${t.mode}) answered ${res.status}: ${text.slice(0, 200)}`);
  }
  return { sentAt: performance.timeOrigin + started, answeredAt: performance.timeOrigin + ended };
}

async function toZero(t: Target): Promise<void> {
  await post(t.gw, `/system/scale-function/${t.service}`, { serviceName: t.service, namespace: t.gw.namespace, replicas: 0 });
  const want = JSON.stringify(KEPT[t.mode]);
  await waitFor(
    `${t.service} kept ${t.mode}`,
    async () => JSON.stringify((await containers(t.gw, t.service)).filter((c) => c.role === 'replica').map((c) => c.state)) === want,
    60_000,
    20,
  );
}

export async function measureWakes(
  functions: BuiltWakeFunction[],
  modes: WakeMode[],
  wakes: number,
  progress: (line: string) => void,
): Promise<WakeSeries[]> {
  const gateways: TestGateway[] = [];
  try {
    const targets: Target[] = [];
    for (const mode of modes) {
      // The idler never runs (an hour's tick): the bench decides when a function goes to zero.
      const gw = await startTestGateway({ env: { GITFAAS_ZERO_KEEP: mode, GITFAAS_ZERO_TICK_MS: '3600000' } });
      gateways.push(gw);
      for (const fn of functions) {
        const service = `wake-${fn.name}`;
        const labels = { 'com.openfaas.scale.zero': 'true', 'com.openfaas.scale.zero-duration': '1h' };
        await post(gw, '/system/functions', { service, image: fn.image, namespace: gw.namespace, labels });
        targets.push({ gw, mode, fn, service, url: `${gw.url}/function/${service}.${gw.namespace}`, times: [], windows: [] });
      }
    }
    // Each deployed replica answers once before the rounds (the first call may also pull the image).
    for (const t of targets) {
      await waitFor(`${t.service} (${t.mode}) to answer`, async () => (await timedCall(t, 'first call'), true), 120_000, 200);
    }
    for (let round = 0; round < wakes; round++) {
      await Promise.all(targets.map(toZero));
      for (let i = 0; i < targets.length; i++) {
        const t = targets[(round + i) % targets.length];
        const w = await timedCall(t, `wake ${round + 1}`);
        t.windows.push(w);
        t.times.push(w.answeredAt - w.sentAt);
      }
      progress(`round ${round + 1}/${wakes}: ${targets.map((t) => `${t.fn.name}/${t.mode} ${t.times.at(-1)!.toFixed(0)}`).join('  ')} ms`);
    }
    const series: WakeSeries[] = [];
    for (const t of targets) {
      const starts = await replicaStarts(t.gw.instance, t.gw.namespace, t.service, t.windows[0].sentAt, t.windows.at(-1)!.answeredAt);
      series.push({ fn: t.fn.name, mode: t.mode, times: t.times, toRunning: startedAfter(t.windows, starts) });
    }
    return series;
  } finally {
    for (const gw of gateways) await gw.stop().catch((err: Error) => progress(`could not stop a gateway: ${err.message}`));
  }
}
