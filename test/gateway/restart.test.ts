// The gateway keeps no state of its own: restarted while functions run, it finds them in
// Docker; a replica that dies, while the gateway runs or while it is down, runs again.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
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
// The same instance across restarts: a restarted gateway finds its own containers, no others.
const instance = testInstance();
const auth = `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;
let stateDir: string;
let gateway: RunningGateway | undefined;

async function start(): Promise<RunningGateway> {
  stateDir ??= await mkdtemp(path.join(os.tmpdir(), 'gitfaas-restart-'));
  const config = loadGatewayConfig({ GITFAAS_GATEWAY_PORT: '0', GITFAAS_STATE_DIR: stateDir, GITFAAS_ADMIN_PASSWORD: password, GITFAAS_INSTANCE: instance });
  gateway = await startGateway(config, silentLogger());
  return gateway;
}

const replicas = async () =>
  (await docker.listContainers({ all: true, filters: { label: [`com.gitfaas.function=echo`, `com.gitfaas.namespace=${namespace}`] } })).sort((a, b) => a.Id.localeCompare(b.Id));

async function killProcess(id: string): Promise<void> {
  const { State } = await docker.getContainer(id).inspect();
  process.kill(State.Pid, 'SIGKILL');
  await waitFor('the replica to stop', async () => !(await docker.getContainer(id).inspect()).State.Running);
}

const answers = async (gw: RunningGateway) => {
  const res = await fetch(`${gw.url}/function/echo.${namespace}`);
  await res.body?.cancel();
  return res.status === 200;
};

after(async () => {
  for (const c of await replicas()) await docker.getContainer(c.Id).remove({ force: true });
  await gateway?.stop();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

test('functions keep running across a gateway restart, and dead replicas come back', async () => {
  const image = await fixtureImage('echo');
  let gw = await start();
  const res = await fetch(`${gw.url}/system/functions`, {
    method: 'POST',
    headers: { authorization: auth },
    body: JSON.stringify({ service: 'echo', image, namespace, labels: { 'com.openfaas.scale.min': '2' } }),
  });
  assert.equal(res.status, 202, await res.text());
  const before = await replicas();
  assert.equal(before.length, 2);

  // Stopping the gateway leaves the replicas running.
  await gw.stop();
  assert.deepEqual((await replicas()).map((c) => c.State), ['running', 'running']);

  // A replica dies while no gateway runs; the next gateway finds both and restarts it.
  await killProcess(before[0].Id);
  // A leftover of an update cut short: a replica of an older generation. It must go.
  const info = await docker.getContainer(before[1].Id).inspect();
  const stale = await docker.createContainer({
    name: `gitfaas-${namespace}-echo-stale`,
    Image: info.Config.Image,
    Labels: { ...info.Config.Labels, 'com.gitfaas.generation': '1' },
    ExposedPorts: { '8080/tcp': {} },
    HostConfig: { PortBindings: info.HostConfig.PortBindings },
  });
  await stale.start();
  gw = await start();
  await waitFor('the stale generation to be removed', async () => !(await replicas()).some((c) => c.Id === stale.id), 20000);
  await waitFor('both replicas to serve again', async () => gw.provider.endpoints('echo', namespace)?.length === 2, 20000);
  assert.deepEqual((await replicas()).map((c) => c.Id), before.map((c) => c.Id), 'the same containers, found in Docker');
  assert.ok(await answers(gw));
  const status = await gw.provider.get('echo', namespace);
  assert.equal(status?.replicas, 2);
  assert.equal(status?.image, image);

  // A replica dies while the gateway runs: it leaves the rotation at once, and comes back.
  await killProcess(before[1].Id);
  await waitFor('the dead replica to leave the rotation', async () => gw.provider.endpoints('echo', namespace)?.length === 1, 5000, 10);
  for (let i = 0; i < 10; i++) assert.ok(await answers(gw), 'calls keep succeeding on the live replica');
  await waitFor('the dead replica to serve again', async () => gw.provider.endpoints('echo', namespace)?.length === 2, 20000);
});
