// Micro-benchmark of the proxy's CPU per call: one gateway process and one echo replica,
// nginx in front of the same replica as the baseline, the floor of a node proxy on it
// (floor-proxy.ts: node's http server and undici, nothing else), a splice floor (splice-floor.ts:
// plain sockets and node's llhttp binding, the bytes forwarded as received), the same splice
// below node's stream layer (raw-floor.ts: raw-stream.ts, as the fast plane reads and writes),
// and optionally a second gateway built from other code
// (BENCH_BASE=path/to/dist/services/gateway/main.js) to compare two builds in one run. Rounds alternate the targets, so load from elsewhere on the machine spreads
// over all of them; each round runs wrk at c=50 and reads the proxy's CPU time (user +
// system, from /proc) around it, then c=1 for the latency. Prints every round and the
// medians: CPU µs per call, req/s, and c=1 p50 against the replica called directly.
//   node dist/scripts/bench/proxy-cpu.js    BENCH_SECONDS=4 BENCH_RUNS=5 BENCH_C1_SECONDS=3
//   BENCH_BASE=FILE      another build's gateway main.js, measured beside this build's
//   BENCH_CPU_PROF=DIR   writes a CPU profile of this build's gateway into DIR (keep it out of the repository)
//   BENCH_KUBE=1         adds a gateway on the Kubernetes provider (the API stand-in's pod) and that pod called directly
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startKubeApi, type KubeApi } from '../../test/fakes/kube-api.js';
import { fixtureImage } from '../../test/helpers/images.js';
import { waitFor } from '../../test/helpers/wait.js';
import { cpuSplit, freePort, loadavg, median, startBenchGateway, type BenchGateway } from './gateway-process.js';
import { startNginx, type RunningNginx } from './nginx.js';
import { wrk, type Figures } from './wrk.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const SECONDS_C1 = Number(process.env.BENCH_C1_SECONDS ?? 3);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const BASE = process.env.BENCH_BASE;
const CPU_PROF = process.env.BENCH_CPU_PROF;
const KUBE = process.env.BENCH_KUBE === '1';

const rps = (t: Target) => median(t.c50.map((f) => f.rps));

interface Target {
  name: string;
  url: string;
  /** The proxy's pid (none for the replica called directly). */
  pid?: number;
  cpu: number[];
  /** user-space CPU µs per call: the part the proxy's own code moves; system time is mostly the kernel's TCP work. */
  user: number[];
  c50: Figures[];
  c1: Figures[];
}

async function measure(t: Target): Promise<string> {
  const cpu0 = t.pid ? await cpuSplit(t.pid) : undefined;
  const c50 = await wrk(t.url, 50, SECONDS);
  if (t.pid && cpu0) {
    const cpu1 = await cpuSplit(t.pid);
    t.cpu.push((cpu1.user + cpu1.system - cpu0.user - cpu0.system) / c50.requests);
    t.user.push((cpu1.user - cpu0.user) / c50.requests);
  }
  t.c50.push(c50);
  const c1 = SECONDS_C1 > 0 ? await wrk(t.url, 1, SECONDS_C1) : undefined;
  if (c1) t.c1.push(c1);
  const cpu = t.pid ? `  CPU ${t.cpu[t.cpu.length - 1].toFixed(1)} µs/call (user ${t.user[t.user.length - 1].toFixed(1)})` : '';
  return `${t.name.padEnd(8)} c=50 ${c50.rps.toFixed(0)} req/s p99 ${c50.p99.toFixed(3)} ms${cpu}${c1 ? `   c=1 p50 ${c1.p50.toFixed(3)} p99 ${c1.p99.toFixed(3)} ms` : ''}`;
}

async function main(): Promise<void> {
  const image = await fixtureImage('echo');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gitfaas-bench-cpu-'));
  let gateway: BenchGateway | undefined;
  let base: BenchGateway | undefined;
  let nginx: RunningNginx | undefined;
  const floors: ChildProcess[] = [];
  let kubeApi: KubeApi | undefined;
  let kube: BenchGateway | undefined;
  try {
    gateway = await startBenchGateway({ image, cpuProfDir: CPU_PROF });
    if (BASE) base = await startBenchGateway({ image, mainJs: path.resolve(BASE) });
    nginx = await startNginx(path.join(dir, 'nginx'), await freePort(), new URL(gateway.direct));
    await waitFor('nginx', async () => (await fetch(`${nginx!.url}/`)).ok, 10000);
    const startFloor = async (file: string) => {
      const port = await freePort();
      const child = spawn(process.execPath, [path.join(path.dirname(fileURLToPath(import.meta.url)), file), String(port), gateway!.direct], { stdio: ['ignore', 'inherit', 'inherit'] });
      floors.push(child);
      const url = `http://127.0.0.1:${port}/`;
      await waitFor(file, async () => (await fetch(url)).ok, 10000);
      return { url, pid: child.pid };
    };
    const floor = await startFloor('floor-proxy.js');
    const splice = await startFloor('splice-floor.js');
    const rawFloor = await startFloor('raw-floor.js');
    const make = (name: string, url: string, pid?: number): Target => ({ name, url, pid, cpu: [], user: [], c50: [], c1: [] });
    const targets = [make('direct', `${gateway.direct}/`), make('nginx', `${nginx.url}/`, nginx.pid), make('gitfaas', gateway.fnUrl, gateway.pid), make('floor', floor.url, floor.pid), make('splice', splice.url, splice.pid), make('raw', rawFloor.url, rawFloor.pid)];
    if (base) targets.push(make('base', base.fnUrl, base.pid));
    const byName = (name: string) => targets.find((t) => t.name === name)!;
    if (KUBE) {
      kubeApi = await startKubeApi({});
      kube = await startBenchGateway({ image, kubeconfig: kubeApi.kubeconfigPath });
      targets.push(make('kube', kube.fnUrl, kube.pid), make('kube-pod', `${kube.direct}/`));
    }
    console.log(`proxy CPU per call: ${RUNS} rounds of wrk c=50 for ${SECONDS} s and c=1 for ${SECONDS_C1} s; ${os.cpus().length} CPUs, node ${process.version}, load ${loadavg()}`);
    for (const t of targets) await wrk(t.url, 50, 2); // warm-up: JIT, pools, keep-alive connections
    for (let i = 0; i < RUNS; i++) {
      // Each round starts at another target, so none always runs first after a pause.
      for (let k = 0; k < targets.length; k++) console.log(`round ${i + 1} ${await measure(targets[(i + k) % targets.length])}   load ${loadavg()}`);
    }
    const direct = targets[0];
    const p50 = (t: Target) => median(t.c1.map((f) => f.p50));
    for (const t of targets) {
      const cpu = t.pid ? `CPU ${median(t.cpu).toFixed(1)} µs/call (user ${median(t.user).toFixed(1)})  ` : '';
      const added = t.c1.length && t !== direct ? `  (+${(p50(t) - p50(direct)).toFixed(3)} ms over direct)` : '';
      console.log(`median ${t.name.padEnd(8)} ${cpu}c=50 ${rps(t).toFixed(0)} req/s p99 ${median(t.c50.map((f) => f.p99)).toFixed(3)} ms   c=1 p50 ${t.c1.length ? p50(t).toFixed(3) : '-'} ms${added}`);
    }
    const [, ng, gf] = targets;
    console.log(`gitfaas/nginx: CPU per call ${(median(gf.cpu) / median(ng.cpu)).toFixed(2)}x, req/s at c=50 ${((rps(gf) / rps(ng)) * 100).toFixed(1)}%`);
    const [fl, sp] = [byName('floor'), byName('splice')];
    console.log(`gitfaas/floor: CPU per call ${(median(gf.cpu) / median(fl.cpu)).toFixed(2)}x (user ${(median(gf.user) / median(fl.user)).toFixed(2)}x); floor/nginx ${(median(fl.cpu) / median(ng.cpu)).toFixed(2)}x`);
    console.log(`splice/nginx: CPU per call ${(median(sp.cpu) / median(ng.cpu)).toFixed(2)}x, req/s at c=50 ${((rps(sp) / rps(ng)) * 100).toFixed(1)}%`);
    const raw = byName('raw');
    console.log(`raw/nginx: CPU per call ${(median(raw.cpu) / median(ng.cpu)).toFixed(2)}x, req/s at c=50 ${((rps(raw) / rps(ng)) * 100).toFixed(1)}%; raw/splice CPU per call ${(median(raw.cpu) / median(sp.cpu)).toFixed(2)}x`);
    if (kube) {
      const [kg, kp] = [byName('kube'), byName('kube-pod')];
      console.log(`kube/gitfaas: CPU per call ${(median(kg.cpu) / median(gf.cpu)).toFixed(2)}x (user ${(median(kg.user) / median(gf.user)).toFixed(2)}x), req/s at c=50 ${((rps(kg) / rps(gf)) * 100).toFixed(1)}%; kube-pod/direct req/s ${((rps(kp) / rps(direct)) * 100).toFixed(1)}%`);
    }
    if (base) console.log(`gitfaas/base: CPU per call ${(median(gf.cpu) / median(byName('base').cpu)).toFixed(3)}x (user ${(median(gf.user) / median(byName('base').user)).toFixed(3)}x)`);
    console.log(`load after: ${loadavg()}`);
  } finally {
    for (const child of floors) {
      if (child.exitCode !== null) continue;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await nginx?.stop();
    await gateway?.stop();
    await base?.stop();
    await kube?.stop();
    await kubeApi?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
