// The gateway process as its entry points wire it (services/gateway-with-dashboard.ts): the
// dashboard's variables are checked at start like the gateway's own, the dashboard is a part
// mounted on the gateway by the wiring (the gateway alone serves no /ui/), and a mounted
// part gets the gateway's objects, is routed and is stopped with the gateway. (That its call
// listener hears proxied calls is test/dashboard/dashboard-stats.test.ts's: the call figures.)
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { Hono } from 'hono';
import { loadGatewayWithDashboardConfig, startGatewayWithDashboard } from '../services/gateway-with-dashboard.js';
import { startGateway } from '../services/gateway/service.js';
import { silentLogger } from '../shared/logger.js';
import { testInstance } from './helpers/gateway.js';
import { repoRoot } from './helpers/repo-root.js';

const run = promisify(execFile);
let stateDir: string;

before(async () => {
  stateDir = await mkdtemp(path.join(os.tmpdir(), 'gitfaas-gw-dash-'));
});
after(() => rm(stateDir, { recursive: true, force: true }));

const baseEnv = () => ({
  GITFAAS_BIND: '127.0.0.1',
  GITFAAS_GATEWAY_PORT: '0',
  GITFAAS_STATE_DIR: stateDir,
  GITFAAS_ADMIN_PASSWORD: 'pw',
  GITFAAS_LOG_LEVEL: 'silent',
  GITFAAS_INSTANCE: testInstance(),
});

/** Runs a compiled main to its exit; a start that gets past the configuration fails at Docker (no socket), before listening. */
async function runMain(main: string, env: Record<string, string>) {
  const full = { PATH: process.env.PATH ?? '/usr/bin:/bin', ...baseEnv(), GITFAAS_LOG_LEVEL: 'info', GITFAAS_DOCKER_SOCKET: path.join(stateDir, 'no-docker.sock'), ...env };
  try {
    const out = await run(process.execPath, [path.join(repoRoot(), 'dist', main)], { env: full, timeout: 60_000 });
    return { code: 0, ...out };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('the gateway entry points check the dashboard\'s variables at start and name the bad one', async () => {
  for (const [main, program] of [['services/gateway/main.js', 'gitfaas gateway'], ['services/main.js', 'gitfaas']] as const) {
    const res = await runMain(main, { GITFAAS_DASHBOARD_SESSION_SECRET: 'short' });
    assert.equal(res.code, 2, `${main}: ${res.stderr}`);
    assert.match(res.stderr, new RegExp(`^${program}: invalid configuration; fix these environment variables:\\n {2}GITFAAS_DASHBOARD_SESSION_SECRET: expected at least 32`));
    assert.doesNotMatch(res.stderr, /short/, 'a secret is never shown back');
  }
  const half = await runMain('services/gateway/main.js', { GITHUB_OAUTH_CLIENT_ID: 'Iv1.abc' });
  assert.equal(half.code, 2, half.stderr);
  assert.match(half.stderr, /GITHUB_OAUTH_CLIENT_ID and GITHUB_OAUTH_CLIENT_SECRET/);
});

test('at debug the gateway process logs the dashboard\'s settings with their secrets redacted', async () => {
  const secret = 'a-session-secret-of-more-than-32-characters';
  const res = await runMain('services/gateway/main.js', { GITFAAS_LOG_LEVEL: 'debug', GITFAAS_DASHBOARD_SESSION_SECRET: secret, GITFAAS_QUEUE_PREFIX: 'gwdash' });
  assert.equal(res.code, 1, res.stderr);
  const config = res.stdout.trim().split('\n').map((line) => JSON.parse(line)).find((l) => l.msg === 'configuration')?.config;
  assert.equal(config?.dashboard?.queuePrefix, 'gwdash', 'the dashboard\'s settings are part of the process\'s configuration');
  assert.equal(config.dashboard.sessionSecret, '[redacted]');
  assert.equal(res.stdout.includes(secret), false);
});

test('the dashboard is mounted by the wiring: the gateway alone serves no /ui/, the gateway process does', async () => {
  const config = loadGatewayWithDashboardConfig(baseEnv());
  const alone = await startGateway(config, silentLogger());
  try {
    assert.equal((await fetch(`${alone.url}/ui/api/login-options`)).status, 404);
  } finally {
    await alone.stop();
  }
  const withDashboard = await startGatewayWithDashboard({ ...config, instance: testInstance() }, silentLogger());
  try {
    const res = await fetch(`${withDashboard.url}/ui/api/login-options`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { providers: [] });
    // Every other /ui/api route needs a session: the dashboard's own guard answers.
    assert.equal((await fetch(`${withDashboard.url}/ui/api/functions`)).status, 401);
  } finally {
    await withDashboard.stop();
  }
});

test('a mounted part gets the gateway\'s objects, is routed and is stopped with the gateway', async () => {
  const config = loadGatewayWithDashboardConfig(baseEnv());
  let stops = 0;
  let given: string[] = [];
  const gateway = await startGateway(config, silentLogger(), {
    mounts: [
      (host) => {
        given = Object.keys(host).sort();
        const routes = new Hono();
        routes.get('/part/namespaces', async (c) => c.json(await host.provider.namespaces()));
        routes.get('/part/count', (c) => c.json(host.invocations.total('nothing-here', config.defaultNamespace)));
        return {
          routes,
          stop: async () => {
            stops++;
          },
        };
      },
    ],
  });
  try {
    assert.deepEqual(given, ['asyncLink', 'invocations', 'ownerTokens', 'provider']);
    const res = await fetch(`${gateway.url}/part/namespaces`);
    assert.equal(res.status, 200);
    assert.ok(Array.isArray(await res.json()), 'the provider answered through the part');
    assert.equal(await (await fetch(`${gateway.url}/part/count`)).json(), 0);
    // The gateway's own routes are still there beside the part's.
    assert.equal((await fetch(`${gateway.url}/healthz`)).status, 200);
    assert.equal(stops, 0);
  } finally {
    await gateway.stop();
  }
  assert.equal(stops, 1, 'stopped once, with the gateway');
});
