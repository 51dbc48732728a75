// A call to a function whose only replica is restarting waits for it (through the
// provider's readiness wait) instead of failing; at zero wanted replicas it is refused at once.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import Docker from 'dockerode';
import { loadGatewayConfig } from '../../services/gateway/config.js';
import { startGateway, type RunningGateway } from '../../services/gateway/service.js';
import { silentLogger } from '../../shared/logger.js';
import { testInstance } from '../helpers/gateway.js';
import { fixtureImage } from '../helpers/images.js';
import { waitFor } from '../helpers/wait.js';

const docker = new Docker();
const namespace = `t-${randomBytes(5).toString('hex')}`;
const password = randomBytes(12).toString('hex');
const auth = `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;
let stateDir: string;
let gw: RunningGateway;

before(async () => {
  stateDir = await mkdtemp(path.join(os.tmpdir(), 'gitfaas-wait-'));
  const config = loadGatewayConfig({
    GITFAAS_GATEWAY_PORT: '0',
    GITFAAS_STATE_DIR: stateDir,
    GITFAAS_ADMIN_PASSWORD: password,
    GITFAAS_INSTANCE: testInstance(),
    GITFAAS_FUNCTION_TIMEOUT_MS: '60000',
  });
  gw = await startGateway(config, silentLogger());
});

after(async () => {
  for (const fn of (await gw?.provider.list(namespace)) ?? []) await gw.provider.remove(fn.name, namespace).catch(() => undefined);
  await gw?.stop();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

test('a call waits for a restarting replica; at zero replicas it wakes the function', async () => {
  const image = await fixtureImage('echo');
  const res = await fetch(`${gw.url}/system/functions`, { method: 'POST', headers: { authorization: auth }, body: JSON.stringify({ service: 'echo', image, namespace }) });
  assert.equal(res.status, 202, await res.text());
  const [replica] = gw.provider.endpoints('echo', namespace)!;

  // The only replica dies: the gateway takes it out of traffic and starts it again.
  const { State } = await docker.getContainer(replica.id).inspect();
  process.kill(State.Pid, 'SIGKILL');
  await waitFor('the dead replica to leave the rotation', async () => gw.provider.endpoints('echo', namespace)?.length === 0, 20_000, 5);
  const call = await fetch(`${gw.url}/function/echo.${namespace}?echo=1`, { method: 'POST', body: 'still here' });
  assert.equal(call.status, 200, 'the call waited for the replica to come back');
  assert.match(await call.text(), /still here/);

  const scale = await fetch(`${gw.url}/system/scale-function/echo`, {
    method: 'POST',
    headers: { authorization: auth },
    body: JSON.stringify({ serviceName: 'echo', namespace, replicas: 0 }),
  });
  assert.ok(scale.status < 300, await scale.text());
  await waitFor('echo at zero', async () => (await gw.provider.get('echo', namespace))?.replicas === 0, 20_000);
  // At zero the waker (zero/waker.ts) holds the call and wakes the function.
  const woken = await fetch(`${gw.url}/function/echo.${namespace}`);
  assert.equal(woken.status, 200, await woken.text());
  assert.equal((await gw.provider.get('echo', namespace))?.replicas, 1);
});
