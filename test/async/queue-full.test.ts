// A full work stream (GITFAAS_ASYNC_MAX_BYTES) refuses new calls with 503 and keeps every
// call it already accepted; once a worker drains it, calls are accepted again.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadQueueWorkerConfig } from '../../services/queue-worker/config.js';
import { startQueueWorker } from '../../services/queue-worker/service.js';
import { silentLogger } from '../../shared/logger.js';
import { deployAndWait, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { fixtureImage } from '../helpers/images.js';
import { waitFor } from '../helpers/wait.js';
import { adminPassword, deleteStreams, startCallbackReceiver, uniqueAsyncEnv, type CallbackReceiver } from './support.js';

let gw: TestGateway;
let receiver: CallbackReceiver;
const env: Record<string, string> = { ...uniqueAsyncEnv(), GITFAAS_ASYNC_MAX_BYTES: '8192' };

before(async () => {
  const image = await fixtureImage('echo');
  gw = await startTestGateway({ env });
  receiver = await startCallbackReceiver();
  await deployAndWait(gw, { service: 'echo', image });
});

after(async () => {
  await receiver?.close();
  await gw?.stop();
  await deleteStreams({ stream: env.GITFAAS_ASYNC_STREAM, deadStream: env.GITFAAS_ASYNC_DEAD_STREAM });
});

const enqueue = async () => {
  const r = await fetch(`${gw.url}/async-function/echo.${gw.namespace}`, {
    method: 'POST',
    headers: { 'X-Callback-Url': receiver.url },
    body: 'x'.repeat(500),
  });
  return { status: r.status, callId: r.headers.get('x-call-id'), text: await r.text() };
};

test('a full queue answers 503 and loses nothing it accepted', async () => {
  const accepted: string[] = [];
  let refused: { status: number; text: string } | undefined;
  for (let i = 0; i < 100 && !refused; i++) {
    const r = await enqueue();
    if (r.status === 202) accepted.push(r.callId!);
    else refused = r;
  }
  assert.ok(refused, 'the stream filled up');
  assert.equal(refused.status, 503);
  assert.match(refused.text, /the async queue is full; nothing was queued/);
  assert.ok(accepted.length > 0);
  const queue = await fetch(`${gw.url}/system/async/queue`, { headers: { authorization: gw.authHeader } }).then((r) => r.json());
  assert.equal(queue.messages, accepted.length, 'every 202 is in the stream, and nothing else');

  const worker = await startQueueWorker(
    loadQueueWorkerConfig({ ...env, GITFAAS_GATEWAY_URL: gw.url, GITFAAS_ADMIN_PASSWORD: adminPassword(gw) }),
    silentLogger(),
  );
  try {
    await waitFor('every accepted call to call back', async () => accepted.every((id) => receiver.byCallId.has(id)), 30_000, 50);
    const again = await enqueue();
    assert.equal(again.status, 202, again.text);
    await waitFor('the new call too', async () => receiver.byCallId.has(again.callId!), 30_000, 50);
  } finally {
    await worker.stop();
  }
});
