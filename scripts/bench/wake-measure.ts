// Wake-from-zero timing for `npm run bench:scale`: one gateway per GITFAAS_ZERO_KEEP mode
// (the real Docker provider, in this process), each function deployed in each, then rounds:
// every (mode, function) is scaled to zero at once and seen kept, then each is called in
// turn and timed from sending the call to having its whole answer. Taking every series in
// the same rounds, in a rotating order, exposes them all to the same load on a shared
// machine, which is what makes the ratio to `removed` a fair same-run baseline. The
// engine's floor (wake-floor.ts) is timed in the same rounds.
import { startTestGateway, type TestGateway } from '../../test/helpers/gateway.js';
import { waitFor } from '../../test/helpers/wait.js';
import { containers } from '../../test/zero/support.js';
import { replicaStarts, startedAfter, type WakeWindow } from './wake-events.js';
import { engineFloors } from './wake-floor.js';
import type { BuiltWakeFunction } from './wake-functions.js';

export const WAKE_MODES = ['paused', 'stopped', 'removed'] as const;
export type WakeMode = (typeof WAKE_MODES)[number];

/** What a kept replica looks like in each mode once the scale-down is complete. */
const KEPT: Record<WakeMode, string[]> = { paused: ['paused'], stopped: ['exited'], removed: [] };

export interface WakeSeries {
  fn: string;
  mode: string;
  /** Milliseconds of each wake, in the order taken. */
  times: number[];
  /** Of each wake, milliseconds until the replica was running (unknown: undefined). */
  toRunning: Array<number | undefined>;
  /** The engine alone, no gateway (wake-floor.ts). */
  floor?: true;
  /** Scale-downs the provider could not keep in this mode (it removed the replica); each was redone. */
  fellBack?: number;
}

export function parseWakeModes(text: string): WakeMode[] {
  const modes = text.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = modes.filter((m) => !(WAKE_MODES as readonly string[]).includes(m));
  if (unknown.length > 0 || modes.length === 0) {
    throw new Error(`BENCH_MODES: unknown keep mode "${unknown[0] ?? text}" (expected a comma-separated list of ${WAKE_MODES.join(', ')})`);
  }
  return [...new Set(modes)] as WakeMode[];
}

/** One series of the rounds: made ready (untimed), then woken (timed). */
interface Timed {
  fn: string;
  mode: string;
  floor?: true;
  prepare(): Promise<void>;
  wake(what: string): Promise<WakeWindow & { runningAt?: number }>;
  /** Scale-downs that did not keep the replica as the mode asks (redone before timing). */
  fellBack?(): number;
  /** After the rounds: of each wake, milliseconds until the replica was running. */
  toRunning(windows: Array<WakeWindow & { runningAt?: number }>): Promise<Array<number | undefined>>;
}

async function post(gw: TestGateway, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${gw.url}${path}`, { method: 'POST', headers: { authorization: gw.authHeader, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status >= 300) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
}

/** One call, checked: a wake that answers anything but the function's own 200 is a failed bench, not a figure. */
async function timedCall(url: string, fn: BuiltWakeFunction, what: string): Promise<WakeWindow> {
  const started = performance.now();
  const res = await fetch(url);
  const text = await res.text();
  const ended = performance.now();
  if (res.status !== 200 || !text.includes(fn.answer)) throw new Error(`${what} answered ${res.status}: ${text.slice(0, 200)}`);
  return { sentAt: performance.timeOrigin + started, answeredAt: performance.timeOrigin + ended };
}

/** A function deployed behind the gateway of one keep mode. */
async function gatewaySeries(gw: TestGateway, mode: WakeMode, fn: BuiltWakeFunction): Promise<Timed> {
  const service = `wake-${fn.name}`;
  const labels = { 'com.openfaas.scale.zero': 'true', 'com.openfaas.scale.zero-duration': '1h' };
  await post(gw, '/system/functions', { service, image: fn.image, namespace: gw.namespace, labels });
  const url = `${gw.url}/function/${service}.${gw.namespace}`;
  const what = `${fn.name} (${mode})`;
  // The deployed replica answers once before the rounds (the first call may also pull the image).
  await waitFor(`${what} to answer`, async () => (await timedCall(url, fn, `first call of ${what}`), true), 120_000, 200);
  const want = JSON.stringify(KEPT[mode]);
  let fellBack = 0;
  return {
    fn: fn.name,
    mode,
    // The provider removes a replica Docker would not pause or stop (runc's freezer can fail
    // under load: "unable to freeze"), and the next wake would then be a `removed` one: such
    // a scale-down is counted, the function woken (untimed) and taken to zero again.
    async prepare() {
      for (let attempt = 1; ; attempt++) {
        await post(gw, `/system/scale-function/${service}`, { serviceName: service, namespace: gw.namespace, replicas: 0 });
        let seen = '';
        const states = await waitFor(
          `${what} to settle at zero`,
          async () => {
            const list = await containers(gw, service);
            seen = list.map((c) => `${c.role} ${c.state}`).join(', ');
            const replicas = list.filter((c) => c.role === 'replica').map((c) => c.state);
            return replicas.every((state) => state === 'paused' || state === 'exited') && JSON.stringify(replicas);
          },
          60_000,
          20,
        ).catch((err: Error) => {
          throw new Error(`${err.message} (its containers: ${seen})`, { cause: err });
        });
        if (states === want) return;
        fellBack++;
        if (attempt === 3) throw new Error(`${what}: 3 scale-downs in a row did not keep the replica ${mode} (containers: ${seen})`);
        await timedCall(url, fn, `untimed wake of ${what}`);
      }
    },
    wake: (round) => timedCall(url, fn, `${round} of ${what}`),
    fellBack: () => fellBack,
    toRunning: async (windows) => startedAfter(windows, await replicaStarts(gw.instance, gw.namespace, service, windows[0].sentAt, windows.at(-1)!.answeredAt)),
  };
}

export interface MeasureOptions {
  functions: BuiltWakeFunction[];
  modes: WakeMode[];
  wakes: number;
  /** The static function's image, to time the engine's floor with; none: no floor. */
  floorImage?: string;
  progress: (line: string) => void;
}

export async function measureWakes(opts: MeasureOptions): Promise<WakeSeries[]> {
  const gateways: TestGateway[] = [];
  const floors = opts.floorImage ? engineFloors(opts.floorImage) : undefined;
  try {
    const timed: Timed[] = [];
    for (const mode of opts.modes) {
      // The idler never runs (an hour's tick): the bench decides when a function goes to zero.
      const gw = await startTestGateway({ env: { GITFAAS_ZERO_KEEP: mode, GITFAAS_ZERO_TICK_MS: '3600000' } });
      gateways.push(gw);
      for (const fn of opts.functions) timed.push(await gatewaySeries(gw, mode, fn));
    }
    for (const f of floors?.series ?? []) {
      timed.push({ ...f, floor: true, wake: () => f.wake(), toRunning: async (windows) => windows.map((w) => (w.runningAt === undefined ? undefined : w.runningAt - w.sentAt)) });
    }
    const windows = timed.map(() => [] as Array<WakeWindow & { runningAt?: number }>);
    for (let round = 0; round < opts.wakes; round++) {
      await Promise.all(timed.map((t) => t.prepare()));
      for (let i = 0; i < timed.length; i++) {
        const k = (round + i) % timed.length;
        windows[k].push(await timed[k].wake(`wake ${round + 1}`));
      }
      const took = timed.map((t, k) => `${t.fn}/${t.mode} ${(windows[k].at(-1)!.answeredAt - windows[k].at(-1)!.sentAt).toFixed(0)}`);
      opts.progress(`round ${round + 1}/${opts.wakes}: ${took.join('  ')} ms`);
    }
    const series: WakeSeries[] = [];
    for (const [k, t] of timed.entries()) {
      const times = windows[k].map((w) => w.answeredAt - w.sentAt);
      series.push({ fn: t.fn, mode: t.mode, times, toRunning: await t.toRunning(windows[k]), fellBack: t.fellBack?.() ?? 0, ...(t.floor ? { floor: true as const } : {}) });
    }
    return series;
  } finally {
    await floors?.close();
    for (const gw of gateways) await gw.stop().catch((err: Error) => opts.progress(`could not stop a gateway: ${err.message}`));
  }
}
