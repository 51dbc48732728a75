// Benchmark: wake from zero. Builds a node20-template function and a minimal static
// function the way the builder builds a push (scripts/bench/wake-functions.ts), deploys them
// behind one gateway per GITFAAS_ZERO_KEEP mode (real Docker provider, in this process), and
// times BENCH_WAKES wakes of each, from sending the call to its whole answer
// (scripts/bench/wake-measure.ts). Prints, per function and mode, p50/p99/min/max, the goal
// (p50 <= 300 ms) and the ratio to `removed` from the same run, with the load average before
// and after (the machine may be shared: read them together), and, timed in the same rounds,
// the engine's floor: the static image started by dockerode alone (scripts/bench/wake-floor.ts).
//   npm run bench:scale   BENCH_WAKES=20 BENCH_MODES=paused,stopped,removed
//                         BENCH_FUNCTIONS=node20,static (also: echo, the echo test function)
//                         BENCH_FLOOR=0 leaves out the engine floor
// BENCH_STEP=1 then runs the step load of scripts/bench/scale-step.ts too.
import os from 'node:os';
import { buildWakeFunctions, parseWakeFunctions } from './bench/wake-functions.js';
import { measureWakes, parseWakeModes } from './bench/wake-measure.js';
import { formatWakeTable, summarize } from './bench/wake-report.js';

function wakesFrom(text: string | undefined): number {
  const n = Number(text ?? 20);
  if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_WAKES: expected a whole number of wakes of at least 1, got "${text}"`);
  return n;
}

const load = () => `${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (1, 5, 15 min; ${os.cpus().length} cores)`;

async function main(): Promise<void> {
  const wakes = wakesFrom(process.env.BENCH_WAKES);
  const modes = parseWakeModes(process.env.BENCH_MODES ?? 'paused,stopped,removed');
  const names = parseWakeFunctions(process.env.BENCH_FUNCTIONS ?? 'node20,static');
  const functions = await buildWakeFunctions(names, (line) => {
    if (/^built |ERROR|refused/.test(line)) console.log(line);
  });
  console.log(`wake from zero: ${wakes} wakes of each function in each keep mode, timed from sending the call to its whole answer`);
  for (const fn of functions) console.log(`  ${fn.about}\n    ${fn.image}`);
  console.log(`load average before: ${load()}`);
  // The engine's floor needs the static function (the smallest process: its figures are the engine's).
  const floorImage = process.env.BENCH_FLOOR === '0' ? undefined : functions.find((f) => f.name === 'static')?.image;
  const series = await measureWakes({ functions, modes, wakes, floorImage, progress: (line) => console.log(line) });
  const rows = summarize(series);
  console.log(formatWakeTable(rows.filter((r) => !r.floor)));
  for (const s of series.filter((s) => s.fellBack)) {
    console.log(`${s.fn} (${s.mode}): ${s.fellBack} scale-down(s) removed the replica instead (Docker refused to ${s.mode === 'paused' ? 'pause' : 'stop'} it); each was redone before its timed wake`);
  }
  if (floorImage) {
    console.log('engine floor, same rounds: the static image started by dockerode directly (no gateway), call to first 200 on its 127.0.0.1 port');
    console.log(formatWakeTable(rows.filter((r) => r.floor)));
  }
  console.log(`load average after: ${load()}`);
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
