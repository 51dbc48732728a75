import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ConfigError } from '../../shared/config.js';
import { loadGatewayConfig } from './config.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'gitfaas-config-'));
});
after(() => rm(dir, { recursive: true, force: true }));

test('defaults: loopback, port 8080, user admin, namespace openfaas-fn, 60 s timeout', () => {
  const config = loadGatewayConfig({ GITFAAS_ADMIN_PASSWORD: 'pw' });
  assert.equal(config.bind, '127.0.0.1');
  assert.equal(config.port, 8080);
  assert.equal(config.adminUser, 'admin');
  assert.equal(config.adminPassword, 'pw');
  assert.equal(config.defaultNamespace, 'openfaas-fn');
  assert.equal(config.functionTimeoutMs, 60_000);
  assert.deepEqual(config.provider, { name: 'docker', settings: { socketPath: '/var/run/docker.sock', functionHost: '127.0.0.1', keep: 'paused' } });
  assert.equal(config.domain, 'localhost');
  assert.equal(config.trustProxy, false);
  assert.equal(config.instance, 'default');
});

test('domain, trust proxy and instance', () => {
  const config = loadGatewayConfig({ GITFAAS_ADMIN_PASSWORD: 'pw', GITFAAS_DOMAIN: 'FN.Example.com', GITFAAS_TRUST_PROXY: 'true', GITFAAS_INSTANCE: 'test-1' });
  assert.equal(config.domain, 'fn.example.com');
  assert.equal(config.trustProxy, true);
  assert.equal(config.instance, 'test-1');
  assert.throws(() => loadGatewayConfig({ GITFAAS_ADMIN_PASSWORD: 'x', GITFAAS_DOMAIN: 'https://fn.example.com' }), /GITFAAS_DOMAIN/);
  assert.throws(() => loadGatewayConfig({ GITFAAS_ADMIN_PASSWORD: 'x', GITFAAS_DOMAIN: 'fn.example.com:8080' }), /GITFAAS_DOMAIN/);
  assert.throws(() => loadGatewayConfig({ GITFAAS_ADMIN_PASSWORD: 'x', GITFAAS_TRUST_PROXY: 'maybe' }), /GITFAAS_TRUST_PROXY/);
  assert.throws(() => loadGatewayConfig({ GITFAAS_ADMIN_PASSWORD: 'x', GITFAAS_INSTANCE: 'Test_1' }), /GITFAAS_INSTANCE/);
  assert.equal(loadGatewayConfig({ GITFAAS_ADMIN_PASSWORD: 'x' }).bareLabels, 'github');
  assert.equal(loadGatewayConfig({ GITFAAS_ADMIN_PASSWORD: 'x', GITFAAS_BARE_LABELS: 'none' }).bareLabels, 'none');
  assert.throws(() => loadGatewayConfig({ GITFAAS_ADMIN_PASSWORD: 'x', GITFAAS_BARE_LABELS: 'GitHub' }), /GITFAAS_BARE_LABELS/);
});

test('the password comes from GITFAAS_ADMIN_PASSWORD_FILE, or from the file setup.sh generates', async () => {
  await writeFile(path.join(dir, 'given'), 'from-file\n');
  assert.equal(loadGatewayConfig({ GITFAAS_ADMIN_PASSWORD_FILE: path.join(dir, 'given') }).adminPassword, 'from-file');
  await writeFile(path.join(dir, 'admin-password'), 'generated\n', { mode: 0o600 });
  assert.equal(loadGatewayConfig({ GITFAAS_STATE_DIR: dir }).adminPassword, 'generated');
});

test('no password anywhere is a start-up error naming the variables and the fix', () => {
  assert.throws(
    () => loadGatewayConfig({ GITFAAS_STATE_DIR: path.join(dir, 'empty') }),
    (err: Error) => err instanceof ConfigError && /GITFAAS_ADMIN_PASSWORD or GITFAAS_ADMIN_PASSWORD_FILE/.test(err.message) && /setup\.sh/.test(err.message),
  );
});

test('bad values name their variable', () => {
  assert.throws(() => loadGatewayConfig({ GITFAAS_ADMIN_PASSWORD: 'x', GITFAAS_GATEWAY_PORT: 'http' }), /GITFAAS_GATEWAY_PORT/);
  assert.throws(() => loadGatewayConfig({ GITFAAS_ADMIN_PASSWORD: 'x', GITFAAS_BIND: 'localhost' }), /GITFAAS_BIND/);
  assert.throws(() => loadGatewayConfig({ GITFAAS_ADMIN_PASSWORD: 'x', GITFAAS_DEFAULT_NAMESPACE: 'Bad_NS' }), /GITFAAS_DEFAULT_NAMESPACE/);
  assert.throws(() => loadGatewayConfig({ GITFAAS_ADMIN_PASSWORD: 'x', GITFAAS_FUNCTION_TIMEOUT_MS: '0' }), /GITFAAS_FUNCTION_TIMEOUT_MS/);
  assert.throws(() => loadGatewayConfig({ GITFAAS_ADMIN_PASSWORD: 'x', GITFAAS_METRICS: 'sometimes' }), /GITFAAS_METRICS/);
});

test('per-call metrics are on unless GITFAAS_METRICS=false', () => {
  assert.equal(loadGatewayConfig({ GITFAAS_ADMIN_PASSWORD: 'x' }).metrics, true);
  assert.equal(loadGatewayConfig({ GITFAAS_ADMIN_PASSWORD: 'x', GITFAAS_METRICS: 'false' }).metrics, false);
});

test('scale to zero: idler tick and wake queue limit, defaults and bad values', () => {
  const shared = { redisUrl: 'redis://127.0.0.1:6379', queuePrefix: 'gitfaas' };
  assert.deepEqual(loadGatewayConfig({ GITFAAS_ADMIN_PASSWORD: 'x' }).zero, { tickMs: 5000, wakeQueueLimit: 1000, ...shared });
  assert.deepEqual(loadGatewayConfig({ GITFAAS_ADMIN_PASSWORD: 'x', GITFAAS_ZERO_TICK_MS: '200', GITFAAS_WAKE_QUEUE_LIMIT: '3' }).zero, { tickMs: 200, wakeQueueLimit: 3, ...shared });
  assert.throws(() => loadGatewayConfig({ GITFAAS_ADMIN_PASSWORD: 'x', GITFAAS_WAKE_QUEUE_LIMIT: '0' }), /GITFAAS_WAKE_QUEUE_LIMIT/);
  assert.throws(() => loadGatewayConfig({ GITFAAS_ADMIN_PASSWORD: 'x', GITFAAS_ZERO_TICK_MS: 'soon' }), /GITFAAS_ZERO_TICK_MS/);
});

test('GITFAAS_PROVIDER picks the backend, whose own variables are checked by its own schema', () => {
  const docker = loadGatewayConfig({ GITFAAS_ADMIN_PASSWORD: 'x', GITFAAS_PROVIDER: 'docker', GITFAAS_DOCKER_SOCKET: '/run/d.sock', GITFAAS_FUNCTION_HOST: '127.0.0.2', GITFAAS_ZERO_KEEP: 'stopped' });
  assert.deepEqual(docker.provider, { name: 'docker', settings: { socketPath: '/run/d.sock', functionHost: '127.0.0.2', keep: 'stopped' } });
  assert.throws(() => loadGatewayConfig({ GITFAAS_ADMIN_PASSWORD: 'x', GITFAAS_ZERO_KEEP: 'frozen' }), /GITFAAS_ZERO_KEEP: expected one of paused, stopped, removed/);
  assert.throws(() => loadGatewayConfig({ GITFAAS_ADMIN_PASSWORD: 'x', GITFAAS_PROVIDER: 'nomad' }), /GITFAAS_PROVIDER: expected one of docker/);
  assert.throws(() => loadGatewayConfig({ GITFAAS_ADMIN_PASSWORD: 'x', GITFAAS_FUNCTION_HOST: 'localhost' }), /GITFAAS_FUNCTION_HOST: expected an IP address/);
  assert.throws(() => loadGatewayConfig({ GITFAAS_ADMIN_PASSWORD: 'x', GITFAAS_DOCKER_SOCKET: '' }), /GITFAAS_DOCKER_SOCKET/);
});

test('gateway processes: auto is one per core but one, at least 1 and at most 8; a bad count names the variable', async () => {
  const { autoProcesses } = await import('./cluster/processes.js');
  assert.deepEqual([1, 2, 4, 16].map((cores) => autoProcesses(cores)), [1, 1, 3, 8]);
  assert.equal(loadGatewayConfig({ GITFAAS_ADMIN_PASSWORD: 'pw' }).processes, autoProcesses());
  assert.equal(loadGatewayConfig({ GITFAAS_ADMIN_PASSWORD: 'pw', GITFAAS_GATEWAY_PROCESSES: '3' }).processes, 3);
  for (const bad of ['0', 'two', '1.5', '65']) {
    assert.throws(() => loadGatewayConfig({ GITFAAS_ADMIN_PASSWORD: 'pw', GITFAAS_GATEWAY_PROCESSES: bad }), (err: unknown) => err instanceof ConfigError && /GITFAAS_GATEWAY_PROCESSES: expected "auto" or a whole number from 1 to 64/.test(err.message));
  }
});
