// The queue-worker as a real process (node dist/services/queue-worker/main.js): killed
// with SIGKILL mid-flight it loses nothing; stopped with SIGTERM it finishes its calls.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { deployAndWait, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { fixtureImage } from '../helpers/images.js';
import { waitFor } from '../helpers/wait.js';
import { adminPassword, consumerState, deleteStreams, exited, spawnWorker, startCallbackReceiver, uniqueAsyncEnv, type CallbackReceiver } from './support.js';

let gw: TestGateway;
let receiver: CallbackReceiver;
let workerEnv: Record<string, string>;
const env = uniqueAsyncEnv();
const NATS = ['nats://127.0.0.1:4222'];
const children: ReturnType<typeof spawnWorker>[] = [];

before(async () => {
  const image = await fixtureImage('echo');
  gw = await startTestGateway({ env });
  receiver = await startCallbackReceiver();
  workerEnv = {
    ...env,
    GITFAAS_GATEWAY_URL: gw.url,
    GITFAAS_ADMIN_PASSWORD: adminPassword(gw),
    GITFAAS_QUEUE_WORKER_MAX_INFLIGHT: '25',
    // short, so calls a killed worker held come back quickly
    GITFAAS_QUEUE_WORKER_ACK_WAIT_MS: '3000',
  };
  await deployAndWait(gw, { service: 'echo', image });
});

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await receiver?.close();
  await gw?.stop();
  await deleteStreams({ stream: env.GITFAAS_ASYNC_STREAM, deadStream: env.GITFAAS_ASYNC_DEAD_STREAM });
});

async function enqueueMany(n: number, query: string): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < n; start += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, n - start) }, async () => {
        const res = await fetch(`${gw.url}/async-function/echo.${gw.namespace}?${query}`, {
          method: 'POST',
          headers: { 'X-Callback-Url': receiver.url },
          body: 'x',
        });
        assert.equal(res.status, 202);
        return res.headers.get('x-call-id')!;
      }),
    );
    ids.push(...batch);
  }
  return ids;
}

test('a worker SIGKILLed with calls in flight, then restarted: every call runs and every callback arrives', async () => {
  const ids = await enqueueMany(300, 'sleep=200');
  const first = spawnWorker(workerEnv);
  children.push(first);
  await waitFor('some callbacks, with more calls in flight', async () => {
    if (receiver.count() < 25) return false;
    const s = await consumerState(NATS, env.GITFAAS_ASYNC_STREAM, env.GITFAAS_ASYNC_CONSUMER);
    return s.ackPending > 0;
  }, 60_000, 20);
  first.kill('SIGKILL');
  assert.equal(await exited(first), 'SIGKILL');
  const done = receiver.count();
  assert.ok(done < ids.length, `the worker was killed before the end (${done} of ${ids.length} done)`);

  const second = spawnWorker(workerEnv);
  children.push(second);
  await waitFor('every callback', async () => ids.every((id) => receiver.byCallId.has(id)), 120_000, 100);
  for (const id of ids) {
    for (const cb of receiver.byCallId.get(id)!) assert.equal(cb.headers['x-function-status'], '200');
  }
  second.kill('SIGTERM');
  assert.equal(await exited(second), 0);
});

test('SIGTERM: the worker stops pulling, finishes the calls it holds, then exits 0', async () => {
  const ids = await enqueueMany(40, 'sleep=1500');
  const worker = spawnWorker({ ...workerEnv, GITFAAS_QUEUE_WORKER_MAX_INFLIGHT: '10' });
  children.push(worker);
  await waitFor('10 calls in flight', async () => {
    const s = await consumerState(NATS, env.GITFAAS_ASYNC_STREAM, env.GITFAAS_ASYNC_CONSUMER);
    return s.ackPending === 10;
  }, 30_000, 20);
  worker.kill('SIGTERM');
  assert.equal(await exited(worker), 0);
  const s = await consumerState(NATS, env.GITFAAS_ASYNC_STREAM, env.GITFAAS_ASYNC_CONSUMER);
  assert.equal(s.ackPending, 0, 'every call it held was finished and acked');
  assert.equal(s.pending, 30, 'it took no new calls after SIGTERM');

  // The next worker delivers the rest, and each call's callback exactly once
  // (nothing the first worker finished runs again).
  const next = spawnWorker(workerEnv);
  children.push(next);
  await waitFor('every callback', async () => ids.every((id) => receiver.byCallId.has(id)), 60_000, 100);
  for (const id of ids) assert.equal(receiver.byCallId.get(id)!.length, 1, `one callback for ${id}`);
  next.kill('SIGTERM');
  assert.equal(await exited(next), 0);
});
