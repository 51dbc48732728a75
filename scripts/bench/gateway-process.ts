// What the gateway benchmarks share: a gateway as its own process (as in production) with the
// echo function deployed on it, a free port, the CPU time a process has used, medians.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { testInstance } from '../../test/helpers/gateway.js';
import { repoRoot } from '../../test/helpers/repo-root.js';
import { waitFor } from '../../test/helpers/wait.js';
import { freePort } from '../../test/helpers/free-port.js';
export { freePort } from '../../test/helpers/free-port.js';

// One replica: the benches measure the proxy, not the autoscaler (which would add replicas
// under wrk's load, and remove the one that direct and nginx call).
const BENCH_LABELS = { 'com.openfaas.scale.max': '1' };

export const median = (values: number[]): number => {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export const loadavg = (): string =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');


const CLOCK_TICKS = 100;

/** CPU time of a process and its children in µs: user, and system (kernel, which also absorbs interrupt work that lands on it). */
export async function cpuSplit(pid: number): Promise<{ user: number; system: number }> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const out = { user: (Number(fields[11]) * 1e6) / CLOCK_TICKS, system: (Number(fields[12]) * 1e6) / CLOCK_TICKS };
  const children = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  for (const child of children.split(' ').filter(Boolean)) {
    const c = await cpuSplit(Number(child));
    out.user += c.user;
    out.system += c.system;
  }
  return out;
}

/** CPU time (user + system) a process and its children have used, in µs; a figure the other load on the machine hardly moves. */
export async function cpuMicros(pid: number): Promise<number> {
  const { user, system } = await cpuSplit(pid);
  return user + system;
}

export async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /VmRSS:\s+(\d+)/.exec(status);
  return kb ? Number(kb[1]) / 1024 : NaN;
}

export interface BenchGateway {
  url: string;
  /** The echo function through this gateway. */
  fnUrl: string;
  pid: number;
  /** The echo replica's own published port. */
  direct: string;
  stop(): Promise<void>;
}

export interface BenchGatewayOptions {
  /** The echo function's image (test/helpers/images.ts). */
  image: string;
  metrics?: boolean;
  /** GITFAAS_FAST_PLANE (default on, as in production). */
  fastPlane?: boolean;
  /** Runs the gateway on the Kubernetes provider against this kubeconfig (the API stand-in). */
  kubeconfig?: string;
  processes?: number;
  /** Another build's gateway main.js; default this build's. */
  mainJs?: string;
  /** Writes a CPU profile of the gateway into this directory (keep it out of the repository). */
  cpuProfDir?: string;
}

/** A gateway as its own process (as in production) with its own instance, and the echo function deployed on it. */
export async function startBenchGateway(opts: BenchGatewayOptions): Promise<BenchGateway> {
  const { image, metrics = true, fastPlane = true, kubeconfig, processes = 1 } = opts;
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'gitfaas-bench-'));
  const password = randomBytes(12).toString('hex');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const namespace = `bench-${randomBytes(4).toString('hex')}`;
  const auth = { authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` };
  const nodeArgs = opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(opts.cpuProfDir)}`] : [];
  const child = spawn(process.execPath, [...nodeArgs, opts.mainJs ?? path.join(repoRoot(), 'dist/services/gateway/main.js')], {
    env: {
      ...process.env,
      GITFAAS_GATEWAY_PORT: String(port),
      GITFAAS_STATE_DIR: stateDir,
      GITFAAS_ADMIN_PASSWORD: password,
      GITFAAS_LOG_LEVEL: 'warn',
      GITFAAS_INSTANCE: testInstance(),
      GITFAAS_METRICS: String(metrics),
      GITFAAS_FAST_PLANE: String(fastPlane),
      GITFAAS_GATEWAY_PROCESSES: String(processes),
      ...(kubeconfig ? { GITFAAS_PROVIDER: 'kubernetes', GITFAAS_KUBECONFIG: kubeconfig } : {}),
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async () => {
    await fetch(`${url}/system/functions`, { method: 'DELETE', headers: auth, body: JSON.stringify({ functionName: 'echo', namespace }) }).catch(() => undefined);
    child.kill('SIGTERM');
    await exited;
    await rm(stateDir, { recursive: true, force: true });
  };
  try {
    await waitFor('the gateway', async () => (await fetch(`${url}/healthz`)).ok, 20000);
    const deployed = await fetch(`${url}/system/functions`, { method: 'POST', headers: auth, body: JSON.stringify({ service: 'echo', image, namespace, labels: BENCH_LABELS }) });
    if (deployed.status !== 202) throw new Error(`deploy failed: ${deployed.status} ${await deployed.text()}`);
    // Docker's replica carries gitfaas's labels; the stand-in's pod container carries its pod's name.
    const label = kubeconfig ? `com.gitfaas.kube-standin.pod` : `com.gitfaas.function=echo`;
    const containers = await new Docker().listContainers({ filters: { label: kubeconfig ? [label] : [label, `com.gitfaas.namespace=${namespace}`] } });
    const container = kubeconfig ? containers.find((c) => c.Labels[label]?.startsWith(`${namespace}/echo-`)) : containers[0];
    if (!container) throw new Error(`no container of echo in ${namespace}`);
    const hostPort = container.Ports.find((p) => p.PrivatePort === 8080)?.PublicPort;
    return { url, fnUrl: `${url}/function/echo.${namespace}/`, pid: child.pid!, direct: `http://127.0.0.1:${hostPort}`, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
