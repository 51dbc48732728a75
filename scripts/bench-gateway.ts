// Benchmark: the same function called directly (its published port) and through the
// gateway, at concurrency 1 and 50. Prints req/s, p50/p99 and gateway/direct ratios, each
// the median of several runs. The gateway runs as its own process, as in production.
//   npm run bench:gateway            (BENCH_SECONDS=5 BENCH_RUNS=3 by default)
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import Docker from 'dockerode';
import { Pool } from 'undici';
import { testInstance } from '../test/helpers/gateway.js';
import { fixtureImage } from '../test/helpers/images.js';
import { repoRoot } from '../test/helpers/repo-root.js';
import { waitFor } from '../test/helpers/wait.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

interface Figures {
  rps: number;
  p50: number;
  p99: number;
}

const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** autocannon: throughput, with latency percentiles at its 1 ms resolution. */
async function load(url: string, connections: number): Promise<Figures> {
  const result = await autocannon({ url, connections, duration: SECONDS });
  if (result.non2xx || result.errors) throw new Error(`${url}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 };
}

/** One request at a time over a keep-alive connection, timed to the microsecond. */
async function sequential(url: string): Promise<Figures> {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections: 1 });
  const times: number[] = [];
  const end = Date.now() + SECONDS * 1000;
  while (Date.now() < end) {
    const t0 = process.hrtime.bigint();
    const res = await pool.request({ path: target.pathname + target.search, method: 'GET' });
    await res.body.dump();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (res.statusCode !== 200) throw new Error(`${url}: status ${res.statusCode}`);
  }
  await pool.close();
  times.sort((a, b) => a - b);
  return { rps: times.length / SECONDS, p50: times[Math.floor(times.length * 0.5)], p99: times[Math.floor(times.length * 0.99)] };
}

async function main(): Promise<void> {
  const image = await fixtureImage('echo');
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'gitfaas-bench-'));
  const password = randomBytes(12).toString('hex');
  const port = await freePort();
  const gatewayUrl = `http://127.0.0.1:${port}`;
  const namespace = `bench-${randomBytes(4).toString('hex')}`;
  const auth = { authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` };
  const child = spawn(process.execPath, [path.join(repoRoot(), 'dist/services/gateway/main.js')], {
    env: { ...process.env, GITFAAS_GATEWAY_PORT: String(port), GITFAAS_STATE_DIR: stateDir, GITFAAS_ADMIN_PASSWORD: password, GITFAAS_LOG_LEVEL: 'warn', GITFAAS_INSTANCE: testInstance() },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    await waitFor('the gateway', async () => (await fetch(`${gatewayUrl}/healthz`)).ok, 20000);
    const deployed = await fetch(`${gatewayUrl}/system/functions`, { method: 'POST', headers: auth, body: JSON.stringify({ service: 'echo', image, namespace }) });
    if (deployed.status !== 202) throw new Error(`deploy failed: ${deployed.status} ${await deployed.text()}`);
    const [container] = await new Docker().listContainers({ filters: { label: [`com.gitfaas.function=echo`, `com.gitfaas.namespace=${namespace}`] } });
    const hostPort = container.Ports.find((p) => p.PrivatePort === 8080)?.PublicPort;
    const targets = { direct: `http://127.0.0.1:${hostPort}/`, gateway: `${gatewayUrl}/function/echo.${namespace}/` };

    console.log(`gitfaas gateway benchmark: ${RUNS} runs of ${SECONDS} s each, ${os.cpus().length} CPUs, node ${process.version}`);
    for (const url of Object.values(targets)) await autocannon({ url, connections: 50, duration: 2 });
    const runs: Record<string, Record<string, Figures[]>> = { direct: { c50: [], c1: [], seq: [] }, gateway: { c50: [], c1: [], seq: [] } };
    for (let i = 0; i < RUNS; i++) {
      for (const [name, url] of Object.entries(targets)) {
        runs[name].c50.push(await load(url, 50));
        runs[name].c1.push(await load(url, 1));
        runs[name].seq.push(await sequential(url));
      }
      process.stderr.write(`run ${i + 1}/${RUNS} done\n`);
    }
    const med = (name: string, kind: string, field: keyof Figures) => median(runs[name][kind].map((f) => f[field]));
    const rows: string[][] = [['target', 'concurrency', 'req/s', 'p50 ms', 'p99 ms']];
    for (const name of ['direct', 'gateway']) {
      rows.push([name, '50', med(name, 'c50', 'rps').toFixed(0), med(name, 'c50', 'p50').toFixed(0), med(name, 'c50', 'p99').toFixed(0)]);
      rows.push([name, '1', med(name, 'c1', 'rps').toFixed(0), med(name, 'c1', 'p50').toFixed(0), med(name, 'c1', 'p99').toFixed(0)]);
      rows.push([name, '1 (sequential, µs timer)', med(name, 'seq', 'rps').toFixed(0), med(name, 'seq', 'p50').toFixed(3), med(name, 'seq', 'p99').toFixed(3)]);
    }
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    for (const row of rows) console.log(row.map((cell, i) => cell.padEnd(widths[i])).join('  '));
    const ratio = med('gateway', 'c50', 'rps') / med('direct', 'c50', 'rps');
    const added = med('gateway', 'seq', 'p50') - med('direct', 'seq', 'p50');
    console.log(`c=50: gateway/direct req/s = ${(ratio * 100).toFixed(1)}% (goal >= 20%: ${ratio >= 0.2 ? 'met' : 'MISSED'})`);
    console.log(`c=1: gateway adds ${added.toFixed(3)} ms to the p50 (goal <= 0.3 ms: ${added <= 0.3 ? 'met' : 'MISSED'})`);
  } finally {
    await fetch(`${gatewayUrl}/system/functions`, { method: 'DELETE', headers: auth, body: JSON.stringify({ functionName: 'echo', namespace }) }).catch(() => undefined);
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    await rm(stateDir, { recursive: true, force: true });
  }
}

await main();
