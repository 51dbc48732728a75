// Benchmark: a step load against the autoscaler. One client for a few seconds, then a step
// to 100 concurrent clients for 60 s against a function with target 50 rps per replica, then
// nothing: seconds until the replica count settles, requests failed, p99 latency during the
// ramp, the scale-down after the load stops, and a timeline (time, load, replicas). The
// gateway runs as its own process with the production windows (60 s stable, 6 s panic).
// `npm run bench:scale` (scripts/bench-scale.ts) imports runStepLoad and formatStepLoad.
//   npm run bench:scale-step   BENCH_CLIENTS=100 BENCH_SECONDS=60 BENCH_CLIENT_RPS=1 (each
//   client's pace; 0: as fast as answers come) BENCH_STABLE_WINDOW_MS, BENCH_PANIC_WINDOW_MS
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { testInstance } from '../../test/helpers/gateway.js';
import { fixtureImage } from '../../test/helpers/images.js';
import { deleteKeys } from '../../test/helpers/redis-keys.js';
import { repoRoot } from '../../test/helpers/repo-root.js';
import { waitFor } from '../../test/helpers/wait.js';
import { freePort } from '../../test/helpers/free-port.js';

export interface StepLoadOptions {
  /** Function image; default the echo test function. */
  image?: string;
  clients?: number;
  /** Seconds of the step (all clients). */
  seconds?: number;
  /** Seconds of one client before the step. */
  baselineSeconds?: number;
  /** Requests per second each client aims at; 0: closed loop, as fast as answers come. */
  clientRps?: number;
  /** com.openfaas.scale.target (rps per replica). */
  target?: number;
  stableWindowMs?: number;
  panicWindowMs?: number;
  /** Told each timeline second as it passes. */
  progress?: (line: string) => void;
}

export interface TimelinePoint {
  /** Seconds since the step. */
  t: number;
  clients: number;
  /** Answers in this second. */
  rps: number;
  /** Desired replicas. */
  replicas: number;
  ready: number;
}

export interface StepLoadResult {
  options: Required<Omit<StepLoadOptions, 'image' | 'progress'>>;
  /** Seconds from the step until the replica count last changed under load (undefined: never changed). */
  settleSeconds?: number;
  settledReplicas: number;
  requests: number;
  failed: number;
  failures: Record<string, number>;
  /** p99 latency (ms) of calls started from the step until the count settled. */
  rampP99Ms: number;
  loadP99Ms: number;
  /** Seconds from the end of the load until the count was back to 1 (undefined: not within the wait). */
  scaleDownSeconds?: number;
  timeline: TimelinePoint[];
  loadAverage: string;
}

const loadavg = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');

function p99(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * 0.99) - 1)];
}


export async function runStepLoad(opts: StepLoadOptions = {}): Promise<StepLoadResult> {
  const o = {
    clients: opts.clients ?? 100,
    seconds: opts.seconds ?? 60,
    baselineSeconds: opts.baselineSeconds ?? 5,
    clientRps: opts.clientRps ?? 1,
    target: opts.target ?? 50,
    stableWindowMs: opts.stableWindowMs ?? 60_000,
    panicWindowMs: opts.panicWindowMs ?? 6_000,
  };
  const image = opts.image ?? (await fixtureImage('echo'));
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'gitfaas-bench-step-'));
  const password = randomBytes(12).toString('hex');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const namespace = `bench-${randomBytes(4).toString('hex')}`;
  const queuePrefix = `bench-step-${randomBytes(4).toString('hex')}`;
  const headers = { authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`, 'content-type': 'application/json' };
  const child = spawn(process.execPath, [path.join(repoRoot(), 'dist/services/gateway/main.js')], {
    env: {
      ...process.env,
      GITFAAS_BIND: '127.0.0.1',
      GITFAAS_GATEWAY_PORT: String(port),
      GITFAAS_STATE_DIR: stateDir,
      GITFAAS_ADMIN_PASSWORD: password,
      GITFAAS_LOG_LEVEL: 'warn',
      GITFAAS_INSTANCE: testInstance(),
      GITFAAS_QUEUE_PREFIX: queuePrefix,
      GITFAAS_AUTOSCALE: 'true',
      GITFAAS_AUTOSCALE_STABLE_WINDOW_MS: String(o.stableWindowMs),
      GITFAAS_AUTOSCALE_PANIC_WINDOW_MS: String(o.panicWindowMs),
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    await waitFor('the gateway', async () => (await fetch(`${url}/healthz`)).ok, 30_000);
    const labels = { 'com.openfaas.scale.target': String(o.target), 'com.openfaas.scale.max': '20' };
    const deployed = await fetch(`${url}/system/functions`, { method: 'POST', headers, body: JSON.stringify({ service: 'step', image, namespace, labels }) });
    if (deployed.status !== 202) throw new Error(`deploy failed: ${deployed.status} ${await deployed.text()}`);
    return await drive(o, url, namespace, headers, opts.progress ?? (() => undefined));
  } finally {
    await fetch(`${url}/system/functions`, { method: 'DELETE', headers, body: JSON.stringify({ functionName: 'step', namespace }) }).catch(() => undefined);
    child.kill('SIGTERM');
    await exited;
    await rm(stateDir, { recursive: true, force: true });
    const redis = new Redis({ lazyConnect: true });
    await deleteKeys(redis, [`${queuePrefix}:*`]).catch(() => undefined);
    redis.disconnect();
  }
}

async function drive(o: StepLoadResult['options'], url: string, namespace: string, headers: Record<string, string>, progress: (line: string) => void): Promise<StepLoadResult> {
  const fnUrl = `${url}/function/step.${namespace}`;
  const calls: { at: number; ms: number }[] = [];
  const failures: Record<string, number> = {};
  let answersThisSecond = 0;
  let clients = 0;
  let wanted = 0;
  const client = async (index: number) => {
    while (index < wanted) {
      const at = Date.now();
      try {
        const res = await fetch(fnUrl);
        await res.arrayBuffer();
        if (res.status !== 200) failures[String(res.status)] = (failures[String(res.status)] ?? 0) + 1;
      } catch (err) {
        const key = `error ${(err as Error).cause ?? (err as Error).message}`;
        failures[key] = (failures[key] ?? 0) + 1;
      }
      const ms = Date.now() - at;
      calls.push({ at, ms });
      answersThisSecond++;
      if (o.clientRps > 0) await sleep(Math.max(0, 1000 / o.clientRps - ms));
    }
  };
  const runs: Promise<void>[] = [];
  const setClients = (n: number) => {
    wanted = n;
    for (; clients < n; clients++) runs.push(client(clients));
    clients = Math.min(clients, n);
  };

  const timeline: TimelinePoint[] = [];
  const replicas = async () => {
    const res = await fetch(`${url}/system/function/step?namespace=${namespace}`, { headers });
    const s = (await res.json()) as { replicas?: number; availableReplicas: number };
    return { replicas: s.replicas ?? 0, ready: s.availableReplicas };
  };
  let step = 0;
  const sample = async () => {
    const r = await replicas().catch(() => ({ replicas: -1, ready: -1 }));
    const point = { t: Math.round((Date.now() - step) / 1000), clients: wanted, rps: answersThisSecond, replicas: r.replicas, ready: r.ready };
    answersThisSecond = 0;
    timeline.push(point);
    progress(`t=${point.t}s clients ${point.clients} rps ${point.rps} replicas ${point.replicas} (ready ${point.ready})`);
    return point;
  };

  setClients(1);
  step = Date.now() + o.baselineSeconds * 1000;
  for (let i = 0; i < o.baselineSeconds; i++) {
    await sleep(1000);
    await sample();
  }
  step = Date.now();
  setClients(o.clients);
  let lastChange: number | undefined;
  let previous = timeline.at(-1)?.replicas ?? 1;
  while (Date.now() - step < o.seconds * 1000) {
    await sleep(1000);
    const p = await sample();
    if (p.replicas !== previous) lastChange = Date.now();
    previous = p.replicas;
  }
  const loadEnd = Date.now();
  setClients(0);
  await Promise.all(runs);
  const settledReplicas = previous;
  let scaleDownSeconds: number | undefined;
  const until = loadEnd + o.stableWindowMs + o.panicWindowMs + 60_000;
  while (Date.now() < until) {
    await sleep(1000);
    const p = await sample();
    if (p.replicas === 1) {
      scaleDownSeconds = (Date.now() - loadEnd) / 1000;
      break;
    }
  }
  const settle = lastChange ?? step;
  const ramp = calls.filter((c) => c.at >= step && c.at <= settle).map((c) => c.ms);
  const underLoad = calls.filter((c) => c.at >= step && c.at <= loadEnd).map((c) => c.ms);
  return {
    options: o,
    settleSeconds: lastChange === undefined ? undefined : (lastChange - step) / 1000,
    settledReplicas,
    requests: calls.length,
    failed: Object.values(failures).reduce((a, b) => a + b, 0),
    failures,
    rampP99Ms: p99(ramp),
    loadP99Ms: p99(underLoad),
    scaleDownSeconds,
    timeline,
    loadAverage: loadavg(),
  };
}

/** The figures and a small timeline (one row every `every` seconds and at every change of the count). */
export function formatStepLoad(r: StepLoadResult, every = 5): string {
  const o = r.options;
  const lines = [
    `step load: 1 -> ${o.clients} clients (${o.clientRps || 'unpaced'} req/s each) for ${o.seconds} s, target ${o.target} rps per replica, windows panic ${o.panicWindowMs / 1000} s / stable ${o.stableWindowMs / 1000} s`,
    `  settled at ${r.settledReplicas} replicas ${r.settleSeconds === undefined ? '(the count never changed)' : `${r.settleSeconds.toFixed(1)} s after the step`}`,
    `  requests ${r.requests}, failed ${r.failed}${r.failed ? ` ${JSON.stringify(r.failures)}` : ''} (goal 0: ${r.failed === 0 ? 'met' : 'MISSED'})`,
    `  p99 during the ramp ${r.rampP99Ms.toFixed(1)} ms, under the whole load ${r.loadP99Ms.toFixed(1)} ms`,
    `  scale-down to 1 ${r.scaleDownSeconds === undefined ? 'not seen' : `${r.scaleDownSeconds.toFixed(1)} s after the load stopped`}`,
    `  load average ${r.loadAverage}`,
    '     t  clients    rps  replicas  ready',
  ];
  let last: number | undefined;
  for (const p of r.timeline) {
    if (p.t % every !== 0 && p.replicas === last) continue;
    last = p.replicas;
    lines.push(`  ${String(p.t).padStart(4)}  ${String(p.clients).padStart(7)}  ${String(p.rps).padStart(5)}  ${String(p.replicas).padStart(8)}  ${String(p.ready).padStart(5)}`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const num = (name: string) => (process.env[name] === undefined ? undefined : Number(process.env[name]));
  console.log(`autoscaler step-load benchmark; ${os.cpus().length} CPUs, node ${process.version}, load average before: ${loadavg()}`);
  const result = await runStepLoad({
    clients: num('BENCH_CLIENTS'),
    seconds: num('BENCH_SECONDS'),
    clientRps: num('BENCH_CLIENT_RPS'),
    stableWindowMs: num('BENCH_STABLE_WINDOW_MS'),
    panicWindowMs: num('BENCH_PANIC_WINDOW_MS'),
    progress: process.env.BENCH_VERBOSE ? (line) => console.log(line) : undefined,
  });
  console.log(formatStepLoad(result));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
