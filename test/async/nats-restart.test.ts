// NATS stopped and started again while the gateway and a worker run. This test starts
// its OWN nats-server (ephemeral port, temporary store) and kills only that process: the
// shared NATS on 4222 is never touched.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { connect } from 'nats';
import { loadQueueWorkerConfig } from '../../services/queue-worker/config.js';
import { startQueueWorker, type QueueWorker } from '../../services/queue-worker/service.js';
import { NatsLink } from '../../shared/async-nats.js';
import { ensureAsyncStreams } from '../../shared/async-streams.js';
import { silentLogger } from '../../shared/logger.js';
import { deployAndWait, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { fixtureImage } from '../helpers/images.js';
import { waitFor } from '../helpers/wait.js';
import { adminPassword, exited, freePort, startCallbackReceiver, uniqueAsyncEnv, type CallbackReceiver } from './support.js';

let natsDir: string;
let natsPort: number;
let nats: ChildProcess | undefined;
let gw: TestGateway;
let worker: QueueWorker;
let receiver: CallbackReceiver;
const env = uniqueAsyncEnv();

/** Starts a nats-server of our own with JetStream on 127.0.0.1:port, storing in dir. */
async function spawnNats(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir], { stdio: 'ignore' });
  await waitFor('our nats-server to accept connections', async () => {
    if (child.exitCode !== null) throw new Error(`nats-server exited with ${child.exitCode}`);
    const nc = await connect({ servers: [`nats://127.0.0.1:${port}`], reconnect: false });
    await nc.close();
    return true;
  }, 15_000, 50);
  return child;
}

async function startNats(): Promise<void> {
  nats = await spawnNats(natsPort, natsDir);
}

async function stopNats(): Promise<void> {
  const child = nats;
  nats = undefined;
  if (!child || child.exitCode !== null) return;
  child.kill('SIGKILL');
  await exited(child);
}

before(async () => {
  natsDir = await mkdtemp(path.join(os.tmpdir(), 'gitfaas-nats-'));
  natsPort = await freePort();
  await startNats();
  const natsEnv = { ...env, GITFAAS_NATS_URL: `nats://127.0.0.1:${natsPort}` };
  const image = await fixtureImage('echo');
  gw = await startTestGateway({ env: natsEnv });
  receiver = await startCallbackReceiver();
  await deployAndWait(gw, { service: 'echo', image });
  worker = await startQueueWorker(
    loadQueueWorkerConfig({ ...natsEnv, GITFAAS_GATEWAY_URL: gw.url, GITFAAS_ADMIN_PASSWORD: adminPassword(gw), GITFAAS_QUEUE_WORKER_ACK_WAIT_MS: '3000' }),
    silentLogger(),
  );
});

after(async () => {
  await worker?.stop();
  await receiver?.close();
  await gw?.stop();
  await stopNats();
  await rm(natsDir, { recursive: true, force: true });
});

const enqueue = (i: number, query = '') =>
  fetch(`${gw.url}/async-function/echo.${gw.namespace}?i=${i}${query}`, { method: 'POST', headers: { 'X-Callback-Url': receiver.url }, body: `n${i}` }).then(
    async (r) => ({ status: r.status, callId: r.headers.get('x-call-id'), text: await r.text() }),
  );

test('NATS down: 503 and nothing accepted; back up: 202 again, and every accepted call completes', async () => {
  const accepted: string[] = [];
  for (let i = 0; i < 20; i++) {
    const r = await enqueue(i, '&sleep=700');
    assert.equal(r.status, 202, r.text);
    accepted.push(r.callId!);
  }
  // Kill NATS while the worker holds these calls: their acks and callbacks cannot be stored.
  await waitFor('the worker to hold calls', async () => worker.inflight().calls > 0, 10_000, 10);
  await stopNats();
  assert.ok(receiver.count() < accepted.length, 'calls were still in flight when NATS went away');
  const down = await waitFor('the gateway to notice NATS is gone', async () => {
    const r = await enqueue(-1);
    if (r.status === 202) accepted.push(r.callId!); // stored just before the kill: must complete too
    return r.status === 503 ? r : false;
  }, 15_000, 20);
  assert.match(down.text, /nothing was queued/);
  for (let i = 0; i < 5; i++) assert.equal((await enqueue(100 + i)).status, 503, 'never 202 while NATS is down');

  await startNats();
  await waitFor('202 again', async () => {
    const r = await enqueue(200);
    if (r.status === 202) accepted.push(r.callId!);
    return r.status === 202;
  }, 30_000, 100);
  for (let i = 0; i < 20; i++) {
    const r = await enqueue(300 + i);
    assert.equal(r.status, 202, r.text);
    accepted.push(r.callId!);
  }
  await waitFor(`all ${accepted.length} accepted calls to call back`, async () => accepted.every((id) => receiver.byCallId.has(id)), 60_000, 100);
  for (const id of accepted) assert.equal(receiver.byCallId.get(id)![0].headers['x-function-status'], '200');
});

test('a service started while NATS is down connects, and creates its streams, once NATS comes up', async () => {
  const port = await freePort();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gitfaas-nats-late-'));
  const settings = { ...loadQueueWorkerConfig({ ...env, GITFAAS_ADMIN_PASSWORD: 'x' }).streams, natsServers: [`nats://127.0.0.1:${port}`] };
  const link = new NatsLink({
    servers: settings.natsServers,
    name: 'late-test',
    log: silentLogger(),
    retryMs: 100,
    prepare: async (nc) => ensureAsyncStreams(await nc.jetstreamManager(), settings),
  }).start();
  let late: ChildProcess | undefined;
  // A whole worker too: its start must not wait for NATS.
  const lateWorkerConfig = loadQueueWorkerConfig({ ...env, GITFAAS_NATS_URL: `nats://127.0.0.1:${port}`, GITFAAS_ADMIN_PASSWORD: 'x' });
  const lateWorker = await startQueueWorker(lateWorkerConfig, silentLogger());
  try {
    assert.equal(link.usable, false);
    // Starting the server takes longer than several of the link's 100 ms retries.
    late = await spawnNats(port, dir);
    const nc = await link.ready();
    assert.equal(link.usable, true);
    const jsm = await nc.jetstreamManager();
    const info = await jsm.streams.info(settings.stream);
    assert.equal(info.config.name, settings.stream);
    await waitFor('the late worker to create its consumer', async () => (await jsm.consumers.info(settings.stream, lateWorkerConfig.consumer)).name, 15_000, 100);
  } finally {
    await lateWorker.stop();
    await link.close();
    if (late) {
      late.kill('SIGKILL');
      await exited(late);
    }
    await rm(dir, { recursive: true, force: true });
  }
});
