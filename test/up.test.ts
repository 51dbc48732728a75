// scripts/up.sh as a person runs it, in a fresh copy of the repository (a fresh clone on a
// machine where gitfaas may already run): what it prints, where its log goes, which
// instance it runs as, and a second start that does not compile again.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { connect } from 'nats';
import { copyCheckout, copyEnv } from './helpers/repo-copy.js';
import { deleteKeys } from './helpers/redis-keys.js';
import { waitFor } from './helpers/wait.js';
import { freePort } from './helpers/free-port.js';

let copy: string;
let instance: string;

before(async () => {
  copy = await copyCheckout('gitfaas-up-');
  instance = `gitfaas-${createHash('sha256').update(path.join(copy, '.state')).digest('hex').slice(0, 8)}`;
});
after(async () => {
  // What the copy's platform made outside its folder: its queues' keys and its streams.
  const redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true });
  await deleteKeys(redis, [`${instance}:*`]).finally(() => redis.quit());
  const nc = await connect({ servers: 'nats://127.0.0.1:4222' });
  const jsm = await nc.jetstreamManager();
  const suffix = instance.toUpperCase().replace(/-/g, '_');
  for (const name of [`GITFAAS_ASYNC_${suffix}`, `GITFAAS_ASYNC_DEAD_${suffix}`]) await jsm.streams.delete(name).catch(() => undefined);
  await nc.close();
  await rm(copy, { recursive: true, force: true });
});


/** Starts up.sh, waits until the platform runs, stops it with SIGTERM; returns what it printed. */
async function upAndDown(ports: { gateway: number; webhooks: number }) {
  const child = spawn('bash', ['scripts/up.sh'], {
    cwd: copy,
    env: copyEnv({ GITFAAS_GATEWAY_PORT: String(ports.gateway), GITFAAS_WEBHOOKS_PORT: String(ports.webhooks) }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await Promise.race([
      waitFor('up.sh to start the platform', async () => /"all services running"/.test(output), 300_000, 200),
      exited.then((code) => Promise.reject(new Error(`up.sh exited with ${code} before the platform ran:\n${output}`))),
    ]);
    const gateway = await fetch(`http://127.0.0.1:${ports.gateway}/healthz`);
    assert.equal(gateway.status, 200);
  } finally {
    child.kill('SIGTERM');
  }
  const code = await exited;
  return { code, output };
}

test('up.sh prints one readable block, logs to .state/logs/gitfaas.log, runs as its own instance, and starts again without compiling', async () => {
  const ports = { gateway: await freePort(), webhooks: await freePort() };
  const first = await upAndDown(ports);
  assert.equal(first.code, 0, first.output);
  const state = path.join(copy, '.state');
  assert.match(first.output, new RegExp(`instance +${instance} \\(of ${state}; its own functions, queues and build numbers\\)`));
  assert.match(first.output, new RegExp(`gateway +http://127\\.0\\.0\\.1:${ports.gateway} `));
  assert.match(first.output, new RegExp(`admin password +${state}/admin-password\\n`));
  assert.match(first.output, new RegExp(`platform log +here and in ${state}/logs/gitfaas\\.log\\n`));
  for (const line of first.output.split('\n')) assert.ok(line.length < 1000, `no line of kilobytes: ${line.slice(0, 120)}...`);

  const log = await readFile(path.join(state, 'logs/gitfaas.log'), 'utf8');
  const entries = log.trim().split('\n').map((line) => JSON.parse(line));
  assert.equal(entries[0].msg, 'starting');
  assert.equal(entries.at(-1).msg, 'stopped', 'the lines written while stopping reach the file');
  const deployer = entries.find((e) => e.msg === 'deployer waiting for jobs');
  assert.equal(deployer.prefix, instance, 'its queues are its own');
  assert.equal(deployer.gateway, `http://127.0.0.1:${ports.gateway}`, 'the deployer calls the gateway that runs beside it');
  assert.equal((await readFile(path.join(state, 'instance'), 'utf8')).trim(), instance);

  const second = await upAndDown({ gateway: await freePort(), webhooks: await freePort() });
  assert.equal(second.code, 0, second.output);
  assert.match(second.output, /build up to date/);
  assert.doesNotMatch(second.output, /building the TypeScript/, 'no tsc on the second start');
  assert.match(second.output, new RegExp(`instance +${instance} `), 'the same instance across restarts');
  const appended = (await readFile(path.join(state, 'logs/gitfaas.log'), 'utf8')).trim().split('\n');
  assert.equal(appended.length > entries.length, true, 'the log file is appended to');
});

test('a state directory from before instances were scoped keeps "default" (and its functions)', async () => {
  const state = await mkdtemp(path.join(os.tmpdir(), 'gitfaas-old-state-'));
  try {
    await writeFile(path.join(state, 'admin-password'), 'pw\n');
    const { stdout } = await promisify(execFile)('bash', ['-c', 'source scripts/lib.sh && state_instance'], { cwd: copy, env: copyEnv({ GITFAAS_STATE_DIR: state }) });
    assert.equal(stdout.trim(), 'default');
    assert.equal((await readFile(path.join(state, 'instance'), 'utf8')).trim(), 'default');
  } finally {
    await rm(state, { recursive: true, force: true });
  }
});
