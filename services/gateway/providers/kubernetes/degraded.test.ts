// The API server goes away: the proxy keeps serving from the informers' cache, /system/*
// answers 503 saying why, /healthz reports it; when it returns, everything works again.
// Also: a gateway restarted against the same cluster finds its functions.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { silentLogger } from '../../../../shared/logger.js';
import { startKubeApi } from '../../../../test/fakes/kube-api.js';
import { fixtureImage } from '../../../../test/helpers/images.js';
import { waitFor } from '../../../../test/helpers/wait.js';
import { loadGatewayConfig } from '../../config.js';
import { startGateway, type RunningGateway } from '../../service.js';
import { kubeConfigFrom, loadKubernetesConfig } from './config.js';
import { KubernetesProvider } from './provider.js';

let api: Awaited<ReturnType<typeof startKubeApi>>;
let gateway: RunningGateway;
let provider: KubernetesProvider;
let stateDir: string;
const password = randomBytes(12).toString('hex');
const auth = `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;
const namespace = `t-${randomBytes(5).toString('hex')}`;
const instance = `test-${process.pid}-${randomBytes(4).toString('hex')}`;

async function startProvider(): Promise<KubernetesProvider> {
  return KubernetesProvider.start({
    log: silentLogger(),
    kubeConfig: kubeConfigFrom(loadKubernetesConfig({ GITFAAS_KUBECONFIG: api.kubeconfigPath })),
    instance,
    startTimeoutMs: 60_000,
    maxReplicas: 5,
  });
}

before(async () => {
  api = await startKubeApi({});
  stateDir = await mkdtemp(path.join(os.tmpdir(), 'gitfaas-kgw-'));
  provider = await startProvider();
  const config = loadGatewayConfig({
    GITFAAS_BIND: '127.0.0.1',
    GITFAAS_GATEWAY_PORT: '0',
    GITFAAS_STATE_DIR: stateDir,
    GITFAAS_ADMIN_PASSWORD: password,
    GITFAAS_LOG_LEVEL: 'silent',
    GITFAAS_INSTANCE: instance,
  });
  gateway = await startGateway(config, silentLogger(), { provider });
});

after(async () => {
  await api.resume?.();
  await provider.remove('steady', namespace).catch(() => undefined);
  await gateway?.stop();
  await provider?.close();
  await api?.close();
  await rm(stateDir, { recursive: true, force: true });
});

test('while the API server is down the proxy serves from memory, /system/* is 503 saying why, /healthz reports it', async () => {
  const image = await fixtureImage('echo');
  const deployed = await fetch(`${gateway.url}/system/functions`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/json' },
    body: JSON.stringify({ service: 'steady', image, namespace }),
  });
  assert.equal(deployed.status, 202, await deployed.text());
  assert.equal((await fetch(`${gateway.url}/function/steady.${namespace}`)).status, 200);
  assert.equal(await (await fetch(`${gateway.url}/healthz`)).text(), 'OK\n');

  await api.pause();
  await waitFor('the gateway to notice the API server is gone', async () => (await (await fetch(`${gateway.url}/healthz`)).text()).startsWith('degraded:'), 60_000);
  const health = await fetch(`${gateway.url}/healthz`);
  assert.equal(health.status, 200);
  assert.match(await health.text(), /degraded: Kubernetes API server unreachable/);
  const list = await fetch(`${gateway.url}/system/functions?namespace=${namespace}`, { headers: { authorization: auth } });
  assert.equal(list.status, 503);
  assert.match(await list.text(), /Kubernetes API server is unreachable/);
  for (let i = 0; i < 20; i += 1) assert.equal((await fetch(`${gateway.url}/function/steady.${namespace}`)).status, 200, 'the proxy keeps serving');

  await api.resume();
  await waitFor('the gateway to recover', async () => (await (await fetch(`${gateway.url}/healthz`)).text()) === 'OK\n', 60_000);
  const again = await fetch(`${gateway.url}/system/functions?namespace=${namespace}`, { headers: { authorization: auth } });
  assert.equal(again.status, 200);
  assert.deepEqual((await again.json()).map((f: { name: string }) => f.name), ['steady']);
});

test('a gateway restarted against the same cluster finds its functions and serves them', async () => {
  const restarted = await startProvider();
  try {
    assert.deepEqual((await restarted.list(namespace)).map((f) => f.name), ['steady']);
    const endpoints = await restarted.waitUntilReady('steady', namespace, { timeoutMs: 60_000 });
    assert.equal((await fetch(endpoints[0].url)).status, 200);
  } finally {
    await restarted.close();
  }
});
