// The async path end to end: the real gateway (in this process, real Docker provider and
// echo function), the real NATS JetStream, the queue-worker, a callback receiver.
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { loadQueueWorkerConfig, type QueueWorkerConfig } from '../../services/queue-worker/config.js';
import { startQueueWorker, type QueueWorker } from '../../services/queue-worker/service.js';
import { silentLogger } from '../../shared/logger.js';
import { deployAndWait, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { fixtureImage } from '../helpers/images.js';
import { waitFor } from '../helpers/wait.js';
import { adminPassword, deleteStreams, startCallbackReceiver, uniqueAsyncEnv, type CallbackReceiver } from './support.js';

let gw: TestGateway;
let receiver: CallbackReceiver;
let workerConfig: QueueWorkerConfig;
const env = uniqueAsyncEnv();

async function enqueue(path: string, init: { body?: string | Buffer; headers?: Record<string, string>; method?: string } = {}) {
  const res = await fetch(`${gw.url}/async-function/${path}`, {
    method: init.method ?? 'POST',
    headers: init.headers,
    body: init.body as BodyInit | undefined,
  });
  return { status: res.status, callId: res.headers.get('x-call-id'), text: await res.text(), headers: res.headers };
}

async function system(method: string, path: string) {
  const res = await fetch(`${gw.url}${path}`, { method, headers: { authorization: gw.authHeader } });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) };
}

async function withWorker<T>(fn: (w: QueueWorker) => Promise<T>): Promise<T> {
  const worker = await startQueueWorker(workerConfig, silentLogger());
  try {
    return await fn(worker);
  } finally {
    await worker.stop();
  }
}

before(async () => {
  const image = await fixtureImage('echo');
  gw = await startTestGateway({ env: { ...env, GITFAAS_ASYNC_MAX_BODY_BYTES: '65536' } });
  receiver = await startCallbackReceiver();
  workerConfig = loadQueueWorkerConfig({
    ...env,
    GITFAAS_GATEWAY_URL: gw.url,
    GITFAAS_ADMIN_PASSWORD: adminPassword(gw),
    GITFAAS_QUEUE_WORKER_RETRY_MIN_WAIT_MS: '20',
    GITFAAS_QUEUE_WORKER_RETRY_MAX_WAIT_MS: '100',
    GITFAAS_LOG_LEVEL: 'silent',
  });
  await deployAndWait(gw, {
    service: 'echo',
    image,
    annotations: { 'com.openfaas.retry.attempts': '3', 'com.openfaas.retry.min_wait': '10ms', 'com.openfaas.retry.max_wait': '50ms' },
    // ?fail=N counts per replica: the bursts below must not make the autoscaler add one.
    labels: { 'com.openfaas.scale.max': '1' },
  });
});

after(async () => {
  await receiver?.close();
  await gw?.stop();
  await deleteStreams({ stream: env.GITFAAS_ASYNC_STREAM, deadStream: env.GITFAAS_ASYNC_DEAD_STREAM });
});

describe('bad input is refused at once and nothing is queued', () => {
  test('unknown function: 404', async () => {
    const r = await enqueue(`nope.${gw.namespace}`, { body: 'x' });
    assert.equal(r.status, 404);
    assert.match(r.text, /function "nope" not found in namespace/);
    assert.equal((await enqueue('Bad_Name', { body: 'x' })).status, 404);
  });

  test('malformed callback URL: 400', async () => {
    for (const url of ['not a url', '/relative/path', 'ftp://127.0.0.1/x', 'javascript:alert(1)']) {
      const r = await enqueue(`echo.${gw.namespace}`, { body: 'x', headers: { 'X-Callback-Url': url } });
      assert.equal(r.status, 400, url);
      assert.match(r.text, /X-Callback-Url must be an absolute http:\/\/ or https:\/\/ URL/);
    }
    const r = await enqueue(`echo.${gw.namespace}`, { body: 'x', headers: { 'X-Call-Id': 'has space' } });
    assert.equal(r.status, 400);
  });

  test('body over the limit: 413 (declared length and chunked)', async () => {
    const big = Buffer.alloc(65537, 1);
    const r = await enqueue(`echo.${gw.namespace}`, { body: big });
    assert.equal(r.status, 413);
    assert.match(r.text, /65537 bytes is over the async limit of 65536 bytes \(GITFAAS_ASYNC_MAX_BODY_BYTES\)/);
    const chunked = await fetch(`${gw.url}/async-function/echo.${gw.namespace}`, {
      method: 'POST',
      body: new Blob([big]).stream(),
      duplex: 'half',
    } as RequestInit);
    assert.equal(chunked.status, 413);
    const atLimit = await enqueue(`echo.${gw.namespace}`, { body: Buffer.alloc(65536, 1) });
    assert.equal(atLimit.status, 202);
  });

  test('the dead-letter endpoints need the admin credentials', async () => {
    const res = await fetch(`${gw.url}/system/async/dead-letters`);
    assert.equal(res.status, 401);
    assert.equal((await system('POST', '/system/async/dead-letters/abc/replay')).status, 400);
    assert.equal((await system('POST', '/system/async/dead-letters/999999/replay')).status, 404);
  });
});

test('1,000 calls queued while no worker runs are all invoked once a worker starts; every callback is right', async () => {
  const sent: { callId: string; i: number; body: string }[] = [];
  for (let start = 0; start < 1000; start += 50) {
    const batch = await Promise.all(
      Array.from({ length: 50 }, async (_, k) => {
        const i = start + k;
        const body = `payload ${i} ${randomUUID()}`;
        const r = await enqueue(`echo.${gw.namespace}/sub/path?i=${i}`, {
          body,
          headers: { 'X-Callback-Url': `${receiver.url}?i=${i}`, 'X-Custom': `c-${i}`, 'content-type': 'text/plain' },
        });
        assert.equal(r.status, 202, r.text);
        assert.ok(r.callId);
        return { callId: r.callId, i, body };
      }),
    );
    sent.push(...batch);
  }
  const queue = await system('GET', '/system/async/queue');
  assert.equal(queue.status, 200);
  assert.ok(queue.json().messages >= 1000, `stream holds ${queue.json().messages}`);
  assert.equal(receiver.count(), 0, 'nothing runs without a worker');

  await withWorker(async () => {
    await waitFor('1,000 callbacks', async () => sent.every((s) => receiver.byCallId.has(s.callId)), 120_000, 100);
  });
  for (const s of sent) {
    const got = receiver.byCallId.get(s.callId)!;
    assert.equal(got.length, 1, `one callback for ${s.i}`);
    const [cb] = got;
    assert.equal(cb.path, `/cb?i=${s.i}`);
    assert.equal(cb.headers['x-function-status'], '200');
    assert.equal(cb.headers['x-function-name'], 'echo');
    assert.equal(cb.headers['x-function-namespace'], gw.namespace);
    assert.match(String(cb.headers['x-duration-seconds']), /^\d+\.\d{3}$/);
    const answer = JSON.parse(cb.body.toString());
    assert.equal(answer.method, 'POST');
    assert.equal(answer.path, '/sub/path');
    assert.deepEqual(answer.query, { i: String(s.i) });
    assert.equal(answer.headers['x-custom'], `c-${s.i}`);
    assert.equal(answer.headers['content-type'], 'text/plain');
    assert.equal(answer.headers['x-call-id'], s.callId);
    assert.equal(answer.bodySha256, createHash('sha256').update(s.body).digest('hex'));
  }
});

test('a client retrying with the same X-Call-Id is queued once', async () => {
  const callId = `dup-${randomUUID()}`;
  const headers = { 'X-Call-Id': callId, 'X-Callback-Url': receiver.url };
  const a = await enqueue(`echo.${gw.namespace}`, { body: 'once', headers });
  const b = await enqueue(`echo.${gw.namespace}`, { body: 'once', headers });
  assert.equal(a.status, 202);
  assert.equal(a.callId, callId);
  assert.equal(b.status, 202);
  assert.equal(b.headers.get('x-duplicate'), 'true');
  await withWorker(async () => {
    await waitFor('the callback', async () => receiver.byCallId.has(callId), 30_000, 50);
  });
  assert.equal(receiver.byCallId.get(callId)!.length, 1);
});

test('fails twice then succeeds: retried; always fails: dead letter with every attempt, replayed through /system', async () => {
  const flaky = await enqueue(`echo.${gw.namespace}/x?fail=2`, { body: 'f', headers: { 'X-Callback-Url': receiver.url } });
  const down = await enqueue(`echo.${gw.namespace}/y?status=503`, { body: 'd', headers: { 'X-Callback-Url': receiver.url } });
  assert.equal(flaky.status, 202);
  assert.equal(down.status, 202);
  await withWorker(async () => {
    await waitFor('both callbacks', async () => receiver.byCallId.has(flaky.callId!) && receiver.byCallId.has(down.callId!), 30_000, 50);
    const [ok] = receiver.byCallId.get(flaky.callId!)!;
    assert.equal(ok.headers['x-function-status'], '200');
    assert.equal(ok.headers['x-async-attempts'], '3');

    const [dead] = receiver.byCallId.get(down.callId!)!;
    assert.equal(dead.headers['x-function-status'], '503');
    assert.equal(dead.headers['x-async-attempts'], '3', 'the function annotation com.openfaas.retry.attempts=3 applies');
    const list = await system('GET', `/system/async/dead-letters?namespace=${gw.namespace}`);
    assert.equal(list.status, 200, list.text);
    const letters = list.json() as { id: number; callId: string; reason: string; attempts: { status?: number }[]; path: string; query: string }[];
    const mine = letters.filter((d) => d.callId === down.callId);
    assert.equal(mine.length, 1);
    assert.deepEqual(mine[0].attempts.map((a) => a.status), [503, 503, 503]);
    assert.match(mine[0].reason, /3 attempt\(s\) failed; last answer HTTP 503/);
    assert.equal(mine[0].path, '/y');
    assert.equal(mine[0].query, 'status=503');
    assert.equal(String(mine[0].id), dead.headers['x-dead-letter-id']);
    assert.ok(!letters.some((d) => d.callId === flaky.callId), 'the call that succeeded is not a dead letter');

    const replay = await system('POST', `/system/async/dead-letters/${mine[0].id}/replay`);
    assert.equal(replay.status, 202, replay.text);
    assert.equal(replay.json().callId, down.callId);
    await waitFor('the replay to fail again', async () => receiver.byCallId.get(down.callId!)!.length === 2, 30_000, 50);
    const again = (await system('GET', `/system/async/dead-letters?namespace=${gw.namespace}`)).json() as { id: number; callId: string; replayOf?: number }[];
    const back = again.filter((d) => d.callId === down.callId);
    assert.equal(back.length, 1);
    assert.equal(back[0].replayOf, mine[0].id);

    const all = await system('POST', `/system/async/dead-letters/replay?namespace=${gw.namespace}`);
    assert.equal(all.status, 200);
    assert.deepEqual(all.json().callIds, [down.callId]);
    await waitFor('the third run', async () => receiver.byCallId.get(down.callId!)!.length === 3, 30_000, 50);
    const last = (await system('GET', `/system/async/dead-letters?namespace=${gw.namespace}`)).json() as { id: number; callId: string }[];
    const d = last.find((x) => x.callId === down.callId)!;
    assert.equal((await system('DELETE', `/system/async/dead-letters/${d.id}`)).status, 204);
    assert.equal((await system('GET', `/system/async/dead-letters?namespace=${gw.namespace}`)).json().length, 0);
  });
});
