// Benchmark: the same function called directly (its published port), through nginx (one
// worker, keep-alive upstream: the baseline of a well-built proxy) and through the gateway,
// with wrk at concurrency 50 and 1; and through a second gateway with GITFAAS_METRICS=false,
// to print the metrics' cost (ratio with them on and off); and through a gateway of two
// processes (GITFAAS_GATEWAY_PROCESSES=2) beside the one-process gateway; and through a gateway
// without the fast plane (GITFAAS_FAST_PLANE=false: every call on node's http server). Prints every round's figures (req/s, p50, p99), their
// medians, the ratios against the goals and the load average. The gateway runs as its own
// process, as in production. The machine may be shared: read the load average beside the
// figures, and prefer several rounds. A last target, kubernetes, is a gateway with
// GITFAAS_PROVIDER=kubernetes against the Kubernetes API stand-in (its pods are real
// containers): its proxy reads endpoints from the EndpointSlice informer's memory, so its cost
// per call is printed beside the Docker gateway's as a ratio (the goal: the same within noise).
// Each round starts at another target, so none always runs first after a pause or last at the
// highest load; kubernetes runs right after gitfaas, and their ratio is taken round by round
// (the median of the paired ratios), so the machine's drift between rounds cancels out.
//   npm run bench:gateway       BENCH_SECONDS=8 (c=50; c=1 runs for 5 s) BENCH_RUNS=5
//   BENCH_GATEWAY=FILE         another build's gateway main.js, to compare builds side by side
//   BENCH_CPU_PROF=DIR          writes a CPU profile of the gateway into DIR (keep it out of the repository)
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startKubeApi } from '../test/fakes/kube-api.js';
import { fixtureImage } from '../test/helpers/images.js';
import { waitFor } from '../test/helpers/wait.js';
import { cpuMicros, freePort, loadavg, median, rssMb, startBenchGateway, type BenchGateway } from './bench/gateway-process.js';
import { startNginx } from './bench/nginx.js';
import { wrk, type Figures } from './bench/wrk.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const SECONDS_C1 = Math.min(SECONDS, 5);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const CPU_PROF = process.env.BENCH_CPU_PROF;
const MAIN_JS = process.env.BENCH_GATEWAY;
// no-metrics: a second gateway with GITFAAS_METRICS=false, to show what the metrics cost.
// two-procs: a gateway of two processes sharing the port (services/gateway/cluster/).
const TARGETS = ['direct', 'nginx', 'gitfaas', 'kubernetes', 'no-metrics', 'two-procs', 'node-plane'] as const;
type Target = (typeof TARGETS)[number];

async function main(): Promise<void> {
  const image = await fixtureImage('echo');
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'gitfaas-bench-nginx-'));
  let gateway: BenchGateway | undefined;
  let bare: BenchGateway | undefined;
  let kube: BenchGateway | undefined;
  let kubeApi: Awaited<ReturnType<typeof startKubeApi>> | undefined;
  let two: BenchGateway | undefined;
  let nodePlane: BenchGateway | undefined;
  let nginx: Awaited<ReturnType<typeof startNginx>> | undefined;
  try {
    gateway = await startBenchGateway({ image, mainJs: MAIN_JS, cpuProfDir: CPU_PROF });
    bare = await startBenchGateway({ image, metrics: false, mainJs: MAIN_JS });
    kubeApi = await startKubeApi({});
    kube = await startBenchGateway({ image, kubeconfig: kubeApi.kubeconfigPath, mainJs: MAIN_JS });
    two = await startBenchGateway({ image, processes: 2, mainJs: MAIN_JS });
    nodePlane = await startBenchGateway({ image, fastPlane: false, mainJs: MAIN_JS });
    const direct = gateway.direct;
    nginx = await startNginx(path.join(stateDir, 'nginx'), await freePort(), new URL(direct));
    const urls: Record<Target, string> = { direct: `${direct}/`, nginx: `${nginx.url}/`, gitfaas: gateway.fnUrl, 'no-metrics': bare.fnUrl, 'two-procs': two.fnUrl, kubernetes: kube.fnUrl, 'node-plane': nodePlane.fnUrl };
    await waitFor('nginx', async () => (await fetch(urls.nginx)).ok, 10000);

    console.log(`gitfaas gateway benchmark: wrk, ${RUNS} rounds of c=50 for ${SECONDS} s and c=1 for ${SECONDS_C1} s; ${os.cpus().length} CPUs, node ${process.version}, load average before: ${loadavg()}`);
    for (const t of TARGETS) await wrk(urls[t], 50, 2); // warm-up: JIT, pools, nginx's keep-alive connections
    const rounds: Record<Target, { c50: Figures[]; c1: Figures[] }> = { direct: { c50: [], c1: [] }, nginx: { c50: [], c1: [] }, gitfaas: { c50: [], c1: [] }, 'no-metrics': { c50: [], c1: [] }, 'two-procs': { c50: [], c1: [] }, kubernetes: { c50: [], c1: [] }, 'node-plane': { c50: [], c1: [] } };
    const pids: Partial<Record<Target, number>> = { nginx: nginx.pid, gitfaas: gateway.pid, 'no-metrics': bare.pid, 'two-procs': two.pid, kubernetes: kube.pid, 'node-plane': nodePlane.pid };
    const cpuPerCall: Record<Target, number[]> = { direct: [], nginx: [], gitfaas: [], 'no-metrics': [], 'two-procs': [], kubernetes: [], 'node-plane': [] };
    let rssPeak = 0;
    for (let i = 0; i < RUNS; i++) {
      for (let k = 0; k < TARGETS.length; k++) {
        const t = TARGETS[(i + k) % TARGETS.length];
        const pid = pids[t];
        const cpu0 = pid ? await cpuMicros(pid) : 0;
        rounds[t].c50.push(await wrk(urls[t], 50, SECONDS));
        if (pid) cpuPerCall[t].push(((await cpuMicros(pid)) - cpu0) / (rounds[t].c50[i].rps * SECONDS));
        if (t === 'gitfaas') rssPeak = Math.max(rssPeak, await rssMb(gateway.pid));
        rounds[t].c1.push(await wrk(urls[t], 1, SECONDS_C1));
        const f = (x: Figures) => `${x.rps.toFixed(0)} req/s p50 ${x.p50.toFixed(3)} p99 ${x.p99.toFixed(3)} ms`;
        const cpu = pid ? `   proxy CPU ${cpuPerCall[t][i].toFixed(0)} µs/call` : '';
        console.log(`round ${i + 1} ${t.padEnd(10)} c=50: ${f(rounds[t].c50[i])}   c=1: ${f(rounds[t].c1[i])}${cpu}   load ${loadavg()}`);
      }
    }
    const med = (t: Target, c: 'c50' | 'c1', field: keyof Figures) => median(rounds[t][c].map((f) => f[field]));
    const rows: string[][] = [['median', 'concurrency', 'req/s', 'p50 ms', 'p99 ms']];
    for (const t of TARGETS)
      for (const c of ['c50', 'c1'] as const) rows.push([t, c.slice(1), med(t, c, 'rps').toFixed(0), med(t, c, 'p50').toFixed(3), med(t, c, 'p99').toFixed(3)]);
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    for (const row of rows) console.log(row.map((cell, i) => cell.padEnd(widths[i])).join('  '));

    const goal = (met: boolean) => (met ? 'met' : 'MISSED');
    const share = med('gitfaas', 'c50', 'rps') / med('nginx', 'c50', 'rps');
    const added = med('gitfaas', 'c1', 'p50') - med('direct', 'c1', 'p50');
    const p99c1 = med('gitfaas', 'c1', 'p99') / med('nginx', 'c1', 'p99');
    const p99c50 = med('gitfaas', 'c50', 'p99') / med('nginx', 'c50', 'p99');
    console.log(`c=50: gitfaas/nginx req/s = ${(share * 100).toFixed(1)}% (goal >= 80%: ${goal(share >= 0.8)}); gitfaas/direct = ${((med('gitfaas', 'c50', 'rps') / med('direct', 'c50', 'rps')) * 100).toFixed(1)}%, nginx/direct = ${((med('nginx', 'c50', 'rps') / med('direct', 'c50', 'rps')) * 100).toFixed(1)}%`);
    const bareShare = med('no-metrics', 'c50', 'rps') / med('nginx', 'c50', 'rps');
    console.log(`metrics: gitfaas/nginx req/s at c=50 with metrics ${(share * 100).toFixed(1)}%, without (GITFAAS_METRICS=false) ${(bareShare * 100).toFixed(1)}%; on/off = ${((share / bareShare) * 100).toFixed(1)}% (goal >= 95%: ${goal(share / bareShare >= 0.95)}); CPU per call on/off ${(median(cpuPerCall.gitfaas) / median(cpuPerCall['no-metrics'])).toFixed(2)}x`);
    console.log(`c=1: gitfaas adds ${added.toFixed(3)} ms to direct's p50 (goal <= 0.15 ms: ${goal(added <= 0.15)}); nginx adds ${(med('nginx', 'c1', 'p50') - med('direct', 'c1', 'p50')).toFixed(3)} ms`);
    console.log(`p99 gitfaas/nginx: c=1 ${p99c1.toFixed(2)}x, c=50 ${p99c50.toFixed(2)}x (goal <= 2x: ${goal(p99c1 <= 2 && p99c50 <= 2)})`);
    console.log(`proxy CPU per call at c=50 (user+system, median): nginx ${median(cpuPerCall.nginx).toFixed(0)} µs, gitfaas ${median(cpuPerCall.gitfaas).toFixed(0)} µs (${(median(cpuPerCall.gitfaas) / median(cpuPerCall.nginx)).toFixed(2)}x)`);
    // Paired round by round: kubernetes runs right after gitfaas, except in the round that starts at kubernetes, where gitfaas runs last.
    const paired = (values: Record<Target, number[]>) => median(values.kubernetes.map((v, i) => v / values.gitfaas[i]));
    const field = (c: 'c50' | 'c1', f: keyof Figures) => Object.fromEntries(TARGETS.map((t) => [t, rounds[t][c].map((x) => x[f])])) as Record<Target, number[]>;
    const kubeCpu = paired(cpuPerCall);
    const spread = (values: number[]) => (Math.max(...values) / Math.min(...values) - 1) * 100;
    console.log(
      `providers (kubernetes/docker, median of per-round ratios): proxy CPU per call ${kubeCpu.toFixed(2)}x, req/s at c=50 ${(paired(field('c50', 'rps')) * 100).toFixed(1)}%, p50 at c=1 ${paired(field('c1', 'p50')).toFixed(2)}x (goal: CPU per call the same within noise, 0.90-1.10x: ${goal(kubeCpu >= 0.9 && kubeCpu <= 1.1)}); the docker gateway's own CPU per call varied ${spread(cpuPerCall.gitfaas).toFixed(0)}% between rounds`,
    );
    console.log(
      `data planes: the fast plane / node's http server (GITFAAS_FAST_PLANE=false): req/s at c=50 ${(med('gitfaas', 'c50', 'rps') / med('node-plane', 'c50', 'rps')).toFixed(2)}x, p50 at c=1 ${(med('gitfaas', 'c1', 'p50') / med('node-plane', 'c1', 'p50')).toFixed(2)}x, CPU per call ${(median(cpuPerCall.gitfaas) / median(cpuPerCall['node-plane'])).toFixed(2)}x`,
    );
    const twoShare = med('two-procs', 'c50', 'rps') / med('gitfaas', 'c50', 'rps');
    console.log(
      `processes: 2 processes / 1 process req/s at c=50 = ${twoShare.toFixed(2)}x (${med('two-procs', 'c50', 'rps').toFixed(0)} vs ${med('gitfaas', 'c50', 'rps').toFixed(0)}); on ${os.cpus().length} CPUs shared with wrk and the function, a second process can only take what they leave idle (docs/performance.md)`,
    );
    console.log(`gateway RSS after c=50 rounds: ${rssPeak.toFixed(0)} MB; load average after: ${loadavg()} (a shared machine makes every figure noisy)`);
  } finally {
    await nginx?.stop();
    await gateway?.stop();
    await bare?.stop();
    await kube?.stop();
    await kubeApi?.close();
    await two?.stop();
    await nodePlane?.stop();
    await rm(stateDir, { recursive: true, force: true });
  }
}

await main();
