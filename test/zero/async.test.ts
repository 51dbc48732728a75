// Async calls to a function at zero: the queue-worker's calls through the gateway are held
// while it wakes, so every one completes with the function's own 200 at the first attempt,
// and none is dead-lettered because the function was asleep.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadQueueWorkerConfig } from '../../services/queue-worker/config.js';
import { startQueueWorker } from '../../services/queue-worker/service.js';
import { silentLogger } from '../../shared/logger.js';
import { adminPassword, deleteStreams, startCallbackReceiver, uniqueAsyncEnv, type CallbackReceiver } from '../async/support.js';
import { call } from '../gateway/client.js';
import { deployAndWait, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { fixtureImage } from '../helpers/images.js';
import { waitFor } from '../helpers/wait.js';
import { replicas, waitForStates, zeroLabels } from './support.js';

const env = uniqueAsyncEnv();
let gw: TestGateway;
let receiver: CallbackReceiver;

before(async () => {
  const image = await fixtureImage('echo');
  gw = await startTestGateway({ env: { ...env, GITFAAS_ZERO_TICK_MS: '3600000' } });
  receiver = await startCallbackReceiver();
  await deployAndWait(gw, { service: 'dozy', image, labels: zeroLabels('1h') });
});

after(async () => {
  await receiver?.close();
  await gw?.stop();
  await deleteStreams({ stream: env.GITFAAS_ASYNC_STREAM, deadStream: env.GITFAAS_ASYNC_DEAD_STREAM });
});

test('30 async calls to a function at zero all complete, first attempt, none dead-lettered', async () => {
  const scaled = await call(gw, 'POST', '/system/scale-function/dozy', { serviceName: 'dozy', namespace: gw.namespace, replicas: 0 });
  assert.ok(scaled.status < 300, scaled.text);
  await waitForStates(gw, 'dozy', ['paused']);
  const ids: string[] = [];
  for (let i = 0; i < 30; i++) {
    const res = await fetch(`${gw.url}/async-function/dozy.${gw.namespace}`, { method: 'POST', body: `job ${i}`, headers: { 'X-Callback-Url': receiver.url } });
    assert.equal(res.status, 202, await res.text());
    ids.push(res.headers.get('x-call-id')!);
  }
  assert.equal(await replicas(gw, 'dozy'), 0, 'enqueueing woke the function');
  const worker = await startQueueWorker(
    loadQueueWorkerConfig({ ...env, GITFAAS_GATEWAY_URL: gw.url, GITFAAS_ADMIN_PASSWORD: adminPassword(gw), GITFAAS_LOG_LEVEL: 'silent' }),
    silentLogger(),
  );
  try {
    await waitFor('30 callbacks', async () => receiver.count() >= 30, 120_000, 100);
  } finally {
    await worker.stop();
  }
  for (const id of ids) {
    const [cb, ...more] = receiver.byCallId.get(id) ?? [];
    assert.ok(cb, `no callback for ${id}`);
    assert.equal(more.length, 0);
    assert.equal(cb.headers['x-function-status'], '200', cb.body.toString());
    assert.equal(cb.headers['x-async-attempts'], '1');
    assert.equal(cb.headers['x-dead-letter-id'], undefined);
  }
  assert.equal(await replicas(gw, 'dozy'), 1);
});
