// Benchmark: N async calls (POST /async-function/echo.NS with X-Callback-Url) to a trivial
// function, with callbacks to a receiver in this process. Prints end-to-end throughput
// (calls/s from the first enqueue to the last callback) and enqueue-to-callback latency
// p50/p99, the median of several runs, and the ratio to the same calls made synchronously
// through the gateway (the baseline). Gateway and queue-worker run as their own processes,
// as in production, on fresh streams that are deleted afterwards.
//   npm run bench:async    (BENCH_CALLS=3000 BENCH_RUNS=5 BENCH_CONCURRENCY=64 BENCH_WORKERS=1)
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'undici';
import { deleteStreams, freePort, uniqueAsyncEnv } from '../test/async/support.js';
import { testInstance } from '../test/helpers/gateway.js';
import { fixtureImage } from '../test/helpers/images.js';
import { repoRoot } from '../test/helpers/repo-root.js';
import { waitFor } from '../test/helpers/wait.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 3000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 1);
const INFLIGHT = process.env.BENCH_MAX_INFLIGHT ?? '50';

interface Run {
  /** CPU ms per call used by the gateway and by the worker(s) during the run. */
  gatewayCpuPerCall?: number;
  workerCpuPerCall?: number;
  /** Rate of the enqueue phase alone (202s per second). */
  enqueuePerSecond: number;
  callsPerSecond: number;
  p50: number;
  p99: number;
}

// One replica: the bench measures the async path, not the autoscaler.
const BENCH_LABELS = { 'com.openfaas.scale.max': '1' };

const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

/**
 * CPU time (user + system, ms) a process has used, from /proc: a figure that depends far
 * less than calls/s on what else the machine is doing. Undefined off Linux.
 */
function cpuMs(pid: number | undefined): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in 1/100 s ticks
  } catch {
    return undefined;
  }
}

/** Receives callbacks; resolves `done` when `expected` distinct call ids have called back. */
async function receiver() {
  const arrived = new Map<string, number>();
  let expected = Infinity;
  let finish: () => void = () => undefined;
  let failures = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const id = String(req.headers['x-call-id']);
      if (req.headers['x-function-status'] !== '200') failures++;
      if (!arrived.has(id)) arrived.set(id, performance.now());
      res.writeHead(204).end();
      if (arrived.size >= expected) finish();
    });
  });
  server.keepAliveTimeout = 60_000;
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}/cb`,
    arrived,
    failures: () => failures,
    expect(n: number) {
      arrived.clear();
      failures = 0;
      expected = n;
      return new Promise<void>((resolve) => (finish = resolve));
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Runs `n` requests with at most CONCURRENCY at once. */
async function drive(n: number, one: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) await one(next++);
    }),
  );
}

async function main(): Promise<void> {
  const image = await fixtureImage('echo');
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'gitfaas-bench-async-'));
  const password = randomBytes(12).toString('hex');
  const port = await freePort();
  const gatewayUrl = `http://127.0.0.1:${port}`;
  const namespace = `bench-${randomBytes(4).toString('hex')}`;
  const auth = { authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` };
  const asyncEnv = uniqueAsyncEnv();
  const common = { ...process.env, ...asyncEnv, GITFAAS_STATE_DIR: stateDir, GITFAAS_ADMIN_PASSWORD: password, GITFAAS_LOG_LEVEL: 'warn', GITFAAS_INSTANCE: testInstance() };
  const children: ChildProcess[] = [];
  const start = (file: string, env: Record<string, string | undefined>) => {
    // BENCH_PROFILE_DIR=/some/dir writes a CPU profile of each child process there.
    const prof = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
    const child = spawn(process.execPath, [...prof, path.join(repoRoot(), file)], { env, stdio: ['ignore', 'inherit', 'inherit'] });
    children.push(child);
    return child;
  };
  const gateway = start('dist/services/gateway/main.js', { ...common, GITFAAS_GATEWAY_PORT: String(port) });
  const workers: ChildProcess[] = [];
  const cb = await receiver();
  const pool = new Pool(gatewayUrl, { connections: CONCURRENCY, pipelining: 1 });
  try {
    await waitFor('the gateway', async () => (await fetch(`${gatewayUrl}/healthz`)).ok, 20_000);
    const deployed = await fetch(`${gatewayUrl}/system/functions`, { method: 'POST', headers: auth, body: JSON.stringify({ service: 'echo', image, namespace, labels: BENCH_LABELS }) });
    if (deployed.status !== 202) throw new Error(`deploy failed: ${deployed.status} ${await deployed.text()}`);
    await waitFor('the function', async () => (await fetch(`${gatewayUrl}/function/echo.${namespace}`)).ok, 60_000);
    await waitFor('the async queue', async () => (await fetch(`${gatewayUrl}/system/async/queue`, { headers: auth })).ok, 20_000);
    for (let w = 0; w < WORKERS; w++) {
      workers.push(start('dist/services/queue-worker/main.js', { ...common, GITFAAS_GATEWAY_URL: gatewayUrl, GITFAAS_QUEUE_WORKER_MAX_INFLIGHT: INFLIGHT }));
    }

    const body = JSON.stringify({ hello: 'world' });
    const syncRun = async (n: number) => {
      const t0 = performance.now();
      await drive(n, async () => {
        const res = await pool.request({ path: `/function/echo.${namespace}`, method: 'POST', body, headers: { 'content-type': 'application/json' } });
        await res.body.dump();
        if (res.statusCode !== 200) throw new Error(`sync call answered ${res.statusCode}`);
      });
      return n / ((performance.now() - t0) / 1000);
    };
    const asyncRun = async (n: number, prefix: string): Promise<Run> => {
      const done = cb.expect(n);
      const workerCpu = () => workers.reduce((sum, w) => sum + (cpuMs(w.pid) ?? NaN), 0);
      const cpu0 = { gateway: cpuMs(gateway.pid), worker: workerCpu() };
      const sentAt = new Map<string, number>();
      const t0 = performance.now();
      await drive(n, async (i) => {
        const id = `${prefix}-${i}`;
        sentAt.set(id, performance.now());
        const res = await pool.request({
          path: `/async-function/echo.${namespace}`,
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json', 'x-call-id': id, 'x-callback-url': cb.url },
        });
        await res.body.dump();
        if (res.statusCode !== 202) throw new Error(`enqueue answered ${res.statusCode}`);
      });
      const enqueued = performance.now();
      const timeout = setTimeout(() => process.stderr.write(`still waiting: ${cb.arrived.size} of ${n} callbacks\n`), 30_000);
      await done;
      clearTimeout(timeout);
      if (cb.failures()) throw new Error(`${cb.failures()} callbacks reported a non-200 status`);
      const latencies = [...cb.arrived].map(([id, at]) => at - sentAt.get(id)!).sort((a, b) => a - b);
      const last = Math.max(...cb.arrived.values());
      const gatewayCpu = (cpuMs(gateway.pid) ?? NaN) - (cpu0.gateway ?? NaN);
      return {
        gatewayCpuPerCall: gatewayCpu / n,
        workerCpuPerCall: (workerCpu() - cpu0.worker) / n,
        enqueuePerSecond: n / ((enqueued - t0) / 1000), callsPerSecond: n / ((last - t0) / 1000), p50: pct(latencies, 0.5), p99: pct(latencies, 0.99) };
    };

    console.log(`gitfaas async benchmark: ${RUNS} runs of ${CALLS} calls, enqueue concurrency ${CONCURRENCY}, ${WORKERS} worker(s) x max_inflight ${INFLIGHT}, ${os.cpus().length} CPUs (load average ${os.loadavg()[0].toFixed(1)} at start), node ${process.version}`);
    const tag = randomBytes(3).toString('hex');
    await syncRun(500);
    await asyncRun(500, `warm-${tag}`);
    const syncs: number[] = [];
    const runs: Run[] = [];
    for (let r = 0; r < RUNS; r++) {
      syncs.push(await syncRun(CALLS));
      const run = await asyncRun(CALLS, `r${r}-${tag}`);
      runs.push(run);
      console.log(`run ${r + 1}: async ${run.callsPerSecond.toFixed(0)} calls/s (enqueue phase ${run.enqueuePerSecond.toFixed(0)}/s), p50 ${run.p50.toFixed(0)} ms, p99 ${run.p99.toFixed(0)} ms; sync baseline ${syncs.at(-1)!.toFixed(0)} calls/s; CPU per call: gateway ${run.gatewayCpuPerCall?.toFixed(3)} ms, worker ${run.workerCpuPerCall?.toFixed(3)} ms`);
    }
    const rate = median(runs.map((r) => r.callsPerSecond));
    const p50 = median(runs.map((r) => r.p50));
    const p99 = median(runs.map((r) => r.p99));
    const sync = median(syncs);
    console.log(`median: ${rate.toFixed(0)} calls/s end to end, enqueue-to-callback p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms`);
    console.log(
      `CPU per async call (median): gateway ${median(runs.map((r) => r.gatewayCpuPerCall ?? NaN)).toFixed(3)} ms (enqueue + the worker's proxied call), worker ${median(runs.map((r) => r.workerCpuPerCall ?? NaN)).toFixed(3)} ms`,
    );
    console.log(`baseline (same calls, synchronous through the gateway): ${sync.toFixed(0)} calls/s; async/sync = ${((rate / sync) * 100).toFixed(1)}%`);
    console.log(`goal >= 2000 calls/s: ${rate >= 2000 ? 'met' : 'MISSED'}; goal p99 < 1000 ms: ${p99 < 1000 ? 'met' : 'MISSED'}`);
  } finally {
    await pool.close();
    await cb.close();
    await fetch(`${gatewayUrl}/system/functions`, { method: 'DELETE', headers: auth, body: JSON.stringify({ functionName: 'echo', namespace }) }).catch(() => undefined);
    for (const child of children.reverse()) {
      if (child.exitCode !== null) continue;
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    await deleteStreams({ stream: asyncEnv.GITFAAS_ASYNC_STREAM, deadStream: asyncEnv.GITFAAS_ASYNC_DEAD_STREAM });
    await rm(stateDir, { recursive: true, force: true });
  }
}

await main();
