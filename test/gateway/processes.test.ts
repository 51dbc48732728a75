// GITFAAS_GATEWAY_PROCESSES=2: the compiled gateway forks two processes sharing the port.
// Connections spread over both; invocation counts and /metrics add up across them whichever
// process answers; a process that dies is replaced while the other keeps serving.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, readlink, mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import Docker from 'dockerode';
import { testInstance } from '../helpers/gateway.js';
import { fixtureImage } from '../helpers/images.js';
import { repoRoot } from '../helpers/repo-root.js';
import { waitFor } from '../helpers/wait.js';
import { freePort } from '../helpers/free-port.js';

const docker = new Docker();
const instance = testInstance();
const password = randomBytes(12).toString('hex');
const auth = `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;
const namespace = `t-${randomBytes(5).toString('hex')}`;
let primary: ChildProcess | undefined;
let stateDir: string | undefined;
let output = '';


const children = async (pid: number): Promise<number[]> =>
  (await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '')).split(' ').filter(Boolean).map(Number);

/** Established TCP connections on `port` whose socket process `pid` holds open. */
async function connectionsHeld(pid: number, port: number): Promise<number> {
  const portHex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const established = new Set<string>();
  for (const line of (await readFile(`/proc/${pid}/net/tcp`, 'utf8')).split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length > 9 && f[1].endsWith(portHex) && f[3] === '01') established.add(f[9]);
  }
  let held = 0;
  for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [])) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode && established.has(inode)) held++;
  }
  return held;
}

after(async () => {
  if (primary && primary.exitCode === null) {
    primary.kill('SIGTERM');
    await new Promise((resolve) => primary!.once('exit', resolve));
  }
  for (const c of await docker.listContainers({ all: true, filters: { label: [`com.gitfaas.instance=${instance}`] } })) {
    await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  }
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

test('two gateway processes share the port, add up their counts and replace one that dies', async () => {
  const image = await fixtureImage('echo');
  stateDir = await mkdtemp(path.join(os.tmpdir(), 'gitfaas-procs-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  primary = spawn(process.execPath, [path.join(repoRoot(), 'dist/services/gateway/main.js')], {
    env: {
      PATH: process.env.PATH,
      GITFAAS_GATEWAY_PROCESSES: '2',
      GITFAAS_GATEWAY_PORT: String(port),
      GITFAAS_STATE_DIR: stateDir,
      GITFAAS_ADMIN_PASSWORD: password,
      GITFAAS_INSTANCE: instance,
      GITFAAS_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  primary.stdout!.on('data', (d) => (output += d));
  primary.stderr!.on('data', (d) => (output += d));
  await waitFor('the gateway processes to listen', async () => /gateway processes listening/.test(output) || (primary!.exitCode !== null && Promise.reject(new Error(output))), 60_000);
  const workers = await children(primary.pid!);
  assert.equal(workers.length, 2, `two worker processes under the primary: ${workers}`);

  const deployed = await fetch(`${url}/system/functions`, { method: 'POST', headers: { authorization: auth }, body: JSON.stringify({ service: 'echo', image, namespace }) });
  assert.equal(deployed.status, 202, await deployed.text());
  const fn = `${url}/function/echo.${namespace}`;

  // Ten keep-alive connections at once: the primary hands them out round robin, and every
  // process must know the function (it learnt of it from Docker's events, not the deploy).
  const agent = new http.Agent({ keepAlive: true, maxSockets: 10 });
  const call = () =>
    new Promise<number>((resolve, reject) => {
      http.get(fn, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      }).on('error', reject);
    });
  await waitFor('echo to answer through both processes', async () => (await Promise.all([...Array(10)].map(call))).every((s) => s === 200), 60_000, 200);
  const heldBy = await Promise.all(workers.map((pid) => connectionsHeld(pid, port)));
  assert.ok(heldBy.every((n) => n > 0), `each process holds some of the client's connections: ${heldBy}`);

  // Known traffic: the counts from either process say the total.
  const before = await count(url);
  const statuses = await Promise.all([...Array(100)].map(call));
  assert.deepEqual(new Set(statuses), new Set([200]));
  agent.destroy();
  for (let i = 0; i < 4; i++) assert.equal(await count(url), before + 100, 'invocationCount is the sum over both processes, from any of them');
  const metrics = await (await fetch(`${url}/metrics`, { headers: { authorization: auth } })).text();
  const total = [...metrics.matchAll(new RegExp(`^gateway_function_invocation_total\\{function_name="echo\\.${namespace}",code="200"\\} (\\d+)`, 'gm'))];
  assert.equal(total.length, 1, 'one series per function and code, not one per process');
  assert.equal(Number(total[0][1]), before + 100);
  assert.match(metrics, new RegExp(`^gateway_service_count\\{function_name="echo\\.${namespace}"\\} 1$`, 'm'), 'replicas are read from Docker once, not summed per process');

  // One process dies: the other serves on, and the primary starts a replacement.
  process.kill(workers[0], 'SIGKILL');
  await waitFor('a replacement process', async () => {
    const now = await children(primary!.pid!);
    return now.length === 2 && !now.includes(workers[0]) && now;
  }, 60_000);
  await waitFor('both processes to answer again', async () => {
    const res = await Promise.all([...Array(10)].map(() => fetch(fn, { headers: { connection: 'close' } }).then((r) => r.status)));
    return res.every((s) => s === 200);
  }, 60_000, 200);

  primary.kill('SIGTERM');
  const code = await new Promise((resolve) => primary!.once('exit', resolve));
  assert.equal(code, 0, output.slice(-2000));
  for (const pid of workers.slice(1)) assert.equal(await readFile(`/proc/${pid}/stat`).then(() => true, () => false), false, `worker ${pid} is gone`);
});

async function count(url: string): Promise<number> {
  const res = await fetch(`${url}/system/function/echo?namespace=${namespace}`, { headers: { authorization: auth } });
  assert.equal(res.status, 200);
  return ((await res.json()) as { invocationCount: number }).invocationCount;
}
