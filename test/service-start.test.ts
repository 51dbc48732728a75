// What a person sees when a service starts or refuses to: the compiled mains run as
// scripts/up.sh and the Dockerfile run them, with an environment given by the test.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { testInstance } from './helpers/gateway.js';
import { repoRoot } from './helpers/repo-root.js';

const run = promisify(execFile);
let stateDir: string;

before(async () => {
  stateDir = await mkdtemp(path.join(os.tmpdir(), 'gitfaas-start-'));
});
after(() => rm(stateDir, { recursive: true, force: true }));

/** Runs a compiled main to its exit; none of these gets far enough to listen. */
async function runMain(main: string, env: Record<string, string>) {
  const base = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    GITFAAS_STATE_DIR: stateDir,
    GITFAAS_ADMIN_PASSWORD: 'pw',
    GITFAAS_GATEWAY_PORT: '0',
    GITFAAS_INSTANCE: testInstance(),
    // Start fails at Docker, before the gateway listens or touches anything shared.
    GITFAAS_DOCKER_SOCKET: path.join(stateDir, 'no-docker.sock'),
  };
  try {
    const out = await run(process.execPath, [path.join(repoRoot(), 'dist', main)], { env: { ...base, ...env }, timeout: 60_000 });
    return { code: 0, ...out };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('a configuration error names the program once and the variable, and exits 2', async () => {
  const all = await runMain('services/main.js', { GITFAAS_GATEWAY_PORT: 'eighty' });
  assert.equal(all.code, 2);
  assert.match(all.stderr, /^gitfaas: invalid configuration; fix these environment variables:\n {2}GITFAAS_GATEWAY_PORT: expected a port number \(got "eighty"\)/);

  const one = await runMain('services/gateway/main.js', { GITFAAS_LOG_FORMAT: 'colour' });
  assert.equal(one.code, 2);
  assert.match(one.stderr, /^gitfaas gateway: invalid configuration; fix these environment variables:\n {2}GITFAAS_LOG_FORMAT: expected json or pretty \(got "colour"\)/);
});

test('logs are JSON lines by default, without the whole configuration at info', async () => {
  const res = await runMain('services/gateway/main.js', {});
  assert.equal(res.code, 1, res.stderr);
  const lines = res.stdout.trim().split('\n').map((line) => JSON.parse(line));
  assert.deepEqual(lines.map((l) => l.msg), ['starting', 'failed to start']);
  assert.equal(lines[0].config, undefined);
  assert.ok(res.stdout.length < 2000, `a short start: ${res.stdout.length} bytes`);
  assert.match(lines[1].err.message, /GITFAAS_DOCKER_SOCKET/);

  const debug = await runMain('services/gateway/main.js', { GITFAAS_LOG_LEVEL: 'debug' });
  const config = debug.stdout.trim().split('\n').map((line) => JSON.parse(line)).find((l) => l.msg === 'configuration');
  assert.equal(config?.config.adminPassword, '[redacted]', 'at debug the configuration is logged, its secrets redacted');
});

test('GITFAAS_LOG_FORMAT=pretty prints lines a person reads', async () => {
  const res = await runMain('services/gateway/main.js', { GITFAAS_LOG_FORMAT: 'pretty' });
  assert.equal(res.code, 1, res.stderr);
  const lines = res.stdout.trim().split('\n');
  assert.match(lines[0], /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(gateway\): starting$/);
  assert.match(res.stdout, /FATAL \(gateway\): failed to start\n[\s\S]*GITFAAS_DOCKER_SOCKET/);
  assert.throws(() => JSON.parse(lines[0]));
});
