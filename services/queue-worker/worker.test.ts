// The worker against the real NATS JetStream, with a small HTTP server on 127.0.0.1 in
// the gateway's place (its /function and /system/function routes), so retries, dead
// letters and callbacks can be driven precisely. test/async/ runs the same paths through
// the real gateway and real Docker functions.
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { connect, type NatsConnection } from 'nats';
import { listDeadLetters, replayAllDeadLetters } from '../../shared/async-dead-letters.js';
import { publishCall, type AsyncCall } from '../../shared/async-message.js';
import { ensureAsyncStreams } from '../../shared/async-streams.js';
import { silentLogger } from '../../shared/logger.js';
import { deleteStreams, startCallbackReceiver, uniqueAsyncEnv, type CallbackReceiver } from '../../test/async/support.js';
import { waitFor } from '../../test/helpers/wait.js';
import { loadQueueWorkerConfig, type QueueWorkerConfig } from './config.js';
import { startQueueWorker, type QueueWorker } from './service.js';

const PASSWORD = 'test-password';
let gateway: Server;
let gatewayUrl: string;
let receiver: CallbackReceiver;
let nc: NatsConnection;
let config: QueueWorkerConfig;
const attemptsByCall = new Map<string, number>();
const attemptTimes = new Map<string, number[]>();
let annotationsRead = 0;

before(async () => {
  gateway = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const sys = /^\/system\/function\/([^/]+)$/.exec(url.pathname);
      if (sys) {
        if (req.headers.authorization !== `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`) return res.writeHead(401).end();
        annotationsRead++;
        const annotations: Record<string, string> =
          sys[1] === 'flaky'
            ? { 'com.openfaas.retry.attempts': '3', 'com.openfaas.retry.min_wait': '10ms', 'com.openfaas.retry.max_wait': '20ms' }
            : sys[1] === 'slowretry'
              ? { 'com.openfaas.retry.attempts': '2', 'com.openfaas.retry.min_wait': '3s', 'com.openfaas.retry.max_wait': '3s' }
              : sys[1] === 'throttled'
              ? { 'com.openfaas.retry.min_wait': '10ms', 'com.openfaas.retry.max_wait': '5s' }
              : {};
        return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name: sys[1], annotations }));
      }
      const fn = /^\/function\/([^./]+)\.([^/]+)(\/.*)?$/.exec(url.pathname);
      if (!fn) return res.writeHead(404).end('no route');
      const callId = String(req.headers['x-call-id']);
      const n = (attemptsByCall.get(callId) ?? 0) + 1;
      attemptsByCall.set(callId, n);
      attemptTimes.set(callId, [...(attemptTimes.get(callId) ?? []), Date.now()]);
      if (fn[1] === 'throttled' && n === 1) return res.writeHead(429, { 'retry-after': '1' }).end('slow down');
      if (fn[1] === 'hangup') return req.socket.destroy();
      if (fn[1] === 'slowretry' && n === 1) return res.writeHead(503).end('later');
      if (fn[1] === 'flaky' && n <= 2) return res.writeHead(503, { 'retry-after': '0' }).end('not yet');
      if (fn[1] === 'down') return res.writeHead(502).end(`down ${n}`);
      res.writeHead(Number(url.searchParams.get('status') ?? 200), { 'content-type': 'application/json', 'x-fn': fn[1] });
      res.end(
        JSON.stringify({
          method: req.method,
          path: fn[3] ?? '',
          query: url.search.slice(1),
          custom: req.headers['x-custom'] ?? null,
          bodySha256: createHash('sha256').update(body).digest('hex'),
          attempt: n,
        }),
      );
    });
  });
  await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
  gatewayUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
  receiver = await startCallbackReceiver();
  config = loadQueueWorkerConfig({
    ...uniqueAsyncEnv(),
    GITFAAS_GATEWAY_URL: gatewayUrl,
    GITFAAS_ADMIN_PASSWORD: PASSWORD,
    GITFAAS_QUEUE_WORKER_RETRY_ATTEMPTS: '3',
    GITFAAS_QUEUE_WORKER_RETRY_MIN_WAIT_MS: '10',
    GITFAAS_QUEUE_WORKER_RETRY_MAX_WAIT_MS: '40',
    GITFAAS_QUEUE_WORKER_CALLBACK_MIN_WAIT_MS: '20',
    GITFAAS_QUEUE_WORKER_CALLBACK_MAX_WAIT_MS: '50',
  });
  nc = await connect({ servers: config.streams.natsServers });
  await ensureAsyncStreams(await nc.jetstreamManager(), config.streams);
});

after(async () => {
  await nc?.close();
  await deleteStreams(config.streams);
  await receiver?.close();
  await new Promise((resolve) => gateway?.close(resolve));
});

function call(name: string, extra: Partial<AsyncCall> = {}): AsyncCall {
  return {
    callId: randomUUID(),
    name,
    namespace: 'openfaas-fn',
    method: 'POST',
    path: '/sub/path',
    query: 'a=1&b=two',
    headers: [
      ['content-type', 'application/octet-stream'],
      ['x-custom', 'kept'],
    ],
    callbackUrl: receiver.url,
    enqueuedAt: Date.now(),
    body: new Uint8Array([0, 1, 2, 255, 254]),
    ...extra,
  };
}

async function withWorker<T>(fn: (w: QueueWorker) => Promise<T>): Promise<T> {
  const worker = await startQueueWorker(config, silentLogger());
  try {
    return await fn(worker);
  } finally {
    await worker.stop();
  }
}

test('calls queued before the worker starts are all invoked with their method, path, query, headers and body; callbacks carry the answer', async () => {
  const js = nc.jetstream();
  const calls = Array.from({ length: 200 }, (_, i) => call('echo', { query: `i=${i}`, body: Buffer.from(`body-${i}`) }));
  for (const c of calls) await publishCall(js, config.streams.subject, c);
  await withWorker(async () => {
    await waitFor('200 callbacks', async () => calls.every((c) => receiver.byCallId.has(c.callId)), 30_000, 50);
  });
  for (const [i, c] of calls.entries()) {
    const [cb] = receiver.byCallId.get(c.callId)!;
    assert.equal(cb.headers['x-function-status'], '200');
    assert.equal(cb.headers['x-function-name'], 'echo');
    assert.equal(cb.headers['x-function-namespace'], 'openfaas-fn');
    assert.match(String(cb.headers['x-duration-seconds']), /^\d+\.\d{3}$/);
    assert.equal(cb.headers['x-fn'], 'echo', 'the function response headers are passed on');
    assert.equal(cb.headers['content-type'], 'application/json');
    const answer = JSON.parse(cb.body.toString());
    assert.deepEqual(answer, {
      method: 'POST',
      path: '/sub/path',
      query: `i=${i}`,
      custom: 'kept',
      bodySha256: createHash('sha256').update(`body-${i}`).digest('hex'),
      attempt: 1,
    });
  }
});

test('a duplicate Nats-Msg-Id inside the window is stored once', async () => {
  const js = nc.jetstream();
  const c = call('echo');
  const first = await publishCall(js, config.streams.subject, c);
  const second = await publishCall(js, config.streams.subject, c);
  assert.equal(first.duplicate, false);
  assert.equal(second.duplicate, true);
  assert.equal(second.seq, first.seq);
  await withWorker(async () => {
    await waitFor('the callback', async () => receiver.byCallId.has(c.callId), 10_000, 20);
  });
  assert.equal(attemptsByCall.get(c.callId), 1);
});

test('a function that fails twice is retried (per its annotations) and succeeds; non-retryable statuses are final', async () => {
  const js = nc.jetstream();
  const flaky = call('flaky');
  const notFound = call('echo', { query: 'status=404' });
  await publishCall(js, config.streams.subject, flaky);
  await publishCall(js, config.streams.subject, notFound);
  await withWorker(async () => {
    await waitFor('both callbacks', async () => receiver.byCallId.has(flaky.callId) && receiver.byCallId.has(notFound.callId), 10_000, 20);
  });
  const [ok] = receiver.byCallId.get(flaky.callId)!;
  assert.equal(ok.headers['x-function-status'], '200');
  assert.equal(ok.headers['x-async-attempts'], '3');
  assert.equal(attemptsByCall.get(flaky.callId), 3);
  const [nf] = receiver.byCallId.get(notFound.callId)!;
  assert.equal(nf.headers['x-function-status'], '404');
  assert.equal(attemptsByCall.get(notFound.callId), 1);
  assert.ok(annotationsRead > 0, 'annotations were read through /system/function');
});

test('a function that always fails ends in the dead-letter stream with every attempt; replay runs it again', async () => {
  const js = nc.jetstream();
  const jsm = await nc.jetstreamManager();
  const c = call('down');
  await publishCall(js, config.streams.subject, c);
  await withWorker(async () => {
    await waitFor('the final callback', async () => receiver.byCallId.has(c.callId), 10_000, 20);
    const [cb] = receiver.byCallId.get(c.callId)!;
    assert.equal(cb.headers['x-function-status'], '502');
    assert.equal(cb.body.toString(), 'down 3');
    assert.match(String(cb.headers['x-async-error']), /3 attempt\(s\) failed; last answer HTTP 502/);
    const dead = await listDeadLetters(jsm, config.streams, { limit: 10 });
    const mine = dead.filter((d) => d.callId === c.callId);
    assert.equal(mine.length, 1);
    assert.equal(String(mine[0].id), cb.headers['x-dead-letter-id']);
    assert.deepEqual(mine[0].attempts.map((a) => a.status), [502, 502, 502]);
    assert.equal(mine[0].function, 'down');
    assert.equal(mine[0].path, '/sub/path');
    assert.equal(mine[0].bodyBytes, 5);

    const replayed = await replayAllDeadLetters(js, jsm, config.streams, 'openfaas-fn');
    assert.deepEqual(replayed, [c.callId]);
    await waitFor('the replay callback', async () => receiver.byCallId.get(c.callId)!.length === 2, 10_000, 20);
    assert.equal(attemptsByCall.get(c.callId), 6);
    const again = await listDeadLetters(jsm, config.streams, { limit: 10 });
    assert.equal(again.filter((d) => d.callId === c.callId).length, 1, 'it failed again and is back, once');
    assert.notEqual(again.find((d) => d.callId === c.callId)!.id, mine[0].id);
  });
});

test('a failing callback receiver is retried without holding up calls', async () => {
  const js = nc.jetstream();
  receiver.failNext(2, 503);
  const c = call('echo');
  await publishCall(js, config.streams.subject, c);
  await withWorker(async () => {
    await waitFor('the callback after two refusals', async () => receiver.byCallId.has(c.callId), 10_000, 20);
  });
  assert.equal(receiver.byCallId.get(c.callId)!.length, 1);
});

test('Retry-After is honoured (within max_wait) instead of the backoff', async () => {
  const c = call('throttled');
  await publishCall(nc.jetstream(), config.streams.subject, c);
  await withWorker(async () => {
    await waitFor('the callback', async () => receiver.byCallId.has(c.callId), 10_000, 20);
  });
  const [first, second] = attemptTimes.get(c.callId)!;
  assert.ok(second - first >= 950, `second attempt ${second - first} ms after the first; Retry-After asked for 1 s`);
  assert.equal(receiver.byCallId.get(c.callId)![0].headers['x-async-attempts'], '2');
});

test('connection errors are retried, then dead-lettered with each error', async () => {
  const c = call('hangup');
  await publishCall(nc.jetstream(), config.streams.subject, c);
  await withWorker(async () => {
    await waitFor('the final callback', async () => receiver.byCallId.has(c.callId), 10_000, 20);
  });
  const [cb] = receiver.byCallId.get(c.callId)!;
  assert.equal(cb.headers['x-function-status'], '502');
  assert.match(String(cb.headers['x-async-error']), /3 attempt\(s\) failed; last error/);
  const dead = (await listDeadLetters(await nc.jetstreamManager(), config.streams, { limit: 100 })).find((d) => d.callId === c.callId)!;
  assert.equal(dead.attempts.length, 3);
  for (const a of dead.attempts) {
    assert.equal(a.status, undefined);
    assert.match(a.error!, /socket|closed|ECONNRESET/i);
  }
});

test('two workers share the consumer: every call runs exactly once', async () => {
  const js = nc.jetstream();
  const calls = Array.from({ length: 300 }, () => call('echo'));
  for (const c of calls) await publishCall(js, config.streams.subject, c);
  const a = await startQueueWorker(config, silentLogger());
  const b = await startQueueWorker(config, silentLogger());
  try {
    await waitFor('300 callbacks', async () => calls.every((c) => receiver.byCallId.has(c.callId)), 30_000, 50);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
  for (const c of calls) {
    assert.equal(attemptsByCall.get(c.callId), 1);
    assert.equal(receiver.byCallId.get(c.callId)!.length, 1);
  }
});

test('SIGTERM-style stop during a backoff hands the call back at once; another worker retries it', async () => {
  const c = call('slowretry');
  await publishCall(nc.jetstream(), config.streams.subject, c);
  const first = await startQueueWorker(config, silentLogger());
  await waitFor('the first attempt', async () => attemptsByCall.get(c.callId) === 1, 10_000, 10);
  await waitFor('the call to be waiting for its retry', async () => first.inflight().calls === 1, 5_000, 10);
  const t0 = Date.now();
  await first.stop();
  assert.ok(Date.now() - t0 < 1500, `stop took ${Date.now() - t0} ms with a 3 s backoff pending`);
  assert.equal(attemptsByCall.get(c.callId), 1);
  await withWorker(async () => {
    await waitFor('the retry by the next worker', async () => receiver.byCallId.has(c.callId), 15_000, 50);
  });
  assert.equal(attemptsByCall.get(c.callId), 2);
  const [cb] = receiver.byCallId.get(c.callId)!;
  assert.equal(cb.headers['x-function-status'], '200');
  assert.equal(cb.headers['x-async-attempts'], '2', 'the attempt made before the hand-back counts');
});
