// Benchmark: wake from zero. For each GITFAAS_ZERO_KEEP mode, a function labelled
// com.openfaas.scale.zero=true is scaled to zero (POST /system/scale-function, then its
// replica is seen kept: paused, exited or gone) and called; the figure is the call's time
// from sending to its whole answer, over BENCH_WAKES wakes. Prints p50/p99 per mode and
// the load average (the machine may be shared: read them together). The gateway runs in
// this process with the real Docker provider.
//   npm run bench:scale   BENCH_WAKES=20 BENCH_MODES=paused,stopped,removed
// Then, when scripts/bench/scale-step.ts is there, BENCH_STEP=1 runs its step load too.
import os from 'node:os';
import { startTestGateway, type TestGateway } from '../test/helpers/gateway.js';
import { fixtureImage } from '../test/helpers/images.js';
import { waitFor } from '../test/helpers/wait.js';
import { containers } from '../test/zero/support.js';

const WAKES = Number(process.env.BENCH_WAKES ?? 20);
const MODES = (process.env.BENCH_MODES ?? 'paused,stopped,removed').split(',');
/** What a kept replica looks like in each mode, once the scale-down is complete. */
const KEPT: Record<string, string[]> = { paused: ['paused'], stopped: ['exited'], removed: [] };

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];

async function post(gw: TestGateway, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${gw.url}${path}`, { method: 'POST', headers: { authorization: gw.authHeader, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status >= 300) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
}

async function wakes(mode: string, image: string, fn: string): Promise<number[]> {
  const gw = await startTestGateway({ env: { GITFAAS_ZERO_KEEP: mode, GITFAAS_ZERO_TICK_MS: '3600000' } });
  try {
    const labels = { 'com.openfaas.scale.zero': 'true', 'com.openfaas.scale.zero-duration': '1h' };
    await post(gw, '/system/functions', { service: fn, image, namespace: gw.namespace, labels });
    const url = `${gw.url}/function/${fn}.${gw.namespace}`;
    const times: number[] = [];
    for (let i = 0; i < WAKES; i++) {
      await post(gw, `/system/scale-function/${fn}`, { serviceName: fn, namespace: gw.namespace, replicas: 0 });
      const want = JSON.stringify(KEPT[mode]);
      await waitFor(`${fn} kept ${mode}`, async () => JSON.stringify((await containers(gw, fn)).filter((c) => c.role === 'replica').map((c) => c.state)) === want, 60_000, 20);
      const t0 = performance.now();
      const res = await fetch(url);
      await res.text();
      const ms = performance.now() - t0;
      if (res.status !== 200) throw new Error(`wake ${i + 1} answered ${res.status}`);
      times.push(ms);
    }
    return times;
  } finally {
    await gw.stop();
  }
}

async function main(): Promise<void> {
  const image = await fixtureImage('echo');
  console.log(`wake from zero: ${WAKES} wakes per mode, function "echo" (Node 20 HTTP server, test/fixtures/functions/echo)`);
  console.log(`load average before: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (${os.cpus().length} cores)`);
  for (const mode of MODES) {
    if (!(mode in KEPT)) throw new Error(`BENCH_MODES: unknown keep mode "${mode}" (paused, stopped, removed)`);
    const times = (await wakes(mode, image, `wake-${mode}`)).sort((a, b) => a - b);
    console.log(
      `${mode.padEnd(8)} p50 ${quantile(times, 0.5).toFixed(0)} ms  p99 ${quantile(times, 0.99).toFixed(0)} ms  min ${times[0].toFixed(0)} ms  max ${times.at(-1)!.toFixed(0)} ms  (goal p50 <= 300 ms)  load ${os.loadavg()[0].toFixed(2)}`,
    );
  }
  if (process.env.BENCH_STEP === '1') {
    const step = await import('./bench/scale-step.js');
    const result = await step.runStepLoad({ progress: (line: string) => console.log(line) });
    console.log(step.formatStepLoad(result));
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
