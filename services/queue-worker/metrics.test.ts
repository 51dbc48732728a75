// The queue-worker's metrics against the real NATS JetStream: consumer figures and dead
// letters read at scrape time, and the worker's own health and metrics listener.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { connect, type NatsConnection } from 'nats';
import { Registry } from 'prom-client';
import { publishDeadLetter } from '../../shared/async-dead-letters.js';
import { publishCall, type AsyncCall } from '../../shared/async-message.js';
import { ensureAsyncStreams } from '../../shared/async-streams.js';
import { silentLogger } from '../../shared/logger.js';
import { deleteStreams, uniqueAsyncEnv } from '../../test/async/support.js';
import { parsePromText, sampleValue, scrape } from '../../test/helpers/prom-text.js';
import { waitFor } from '../../test/helpers/wait.js';
import { loadQueueWorkerConfig, type QueueWorkerConfig } from './config.js';
import { callbackConsumerName, ensureConsumers } from './consumers.js';
import { registerQueueWorkerMetrics } from './metrics.js';
import { startQueueWorker } from './service.js';

let nc: NatsConnection;
let config: QueueWorkerConfig;

before(async () => {
  config = loadQueueWorkerConfig({
    ...uniqueAsyncEnv(),
    // Nothing answers here: the worker of the last test never gets a message to call.
    GITFAAS_GATEWAY_URL: 'http://127.0.0.1:9',
    GITFAAS_ADMIN_PASSWORD: 'test-password',
    GITFAAS_QUEUE_WORKER_HEALTH_PORT: '0',
  });
  nc = await connect({ servers: config.streams.natsServers });
  const jsm = await nc.jetstreamManager();
  await ensureAsyncStreams(jsm, config.streams);
  await ensureConsumers(jsm, config.streams, { consumer: config.consumer, ackWaitMs: config.ackWaitMs, maxAckPending: config.maxAckPending, callbackTimeoutMs: config.callback.timeoutMs });
});

after(async () => {
  await nc?.close();
  if (config) await deleteStreams(config.streams);
});

const call = (name: string): AsyncCall => ({
  callId: randomUUID(),
  name,
  namespace: 'openfaas-fn',
  method: 'POST',
  path: '',
  query: '',
  headers: [],
  enqueuedAt: Date.now(),
  body: new Uint8Array([1, 2, 3]),
});

test('consumer pending counts and dead letters come from JetStream; without NATS, jetstream_up is 0 and the scrape still works', async () => {
  const registry = new Registry();
  let connected = true;
  const consumers = { calls: config.consumer, callbacks: callbackConsumerName(config.consumer) };
  registerQueueWorkerMetrics(registry, {
    manager: async () => (connected ? nc.jetstreamManager() : undefined),
    streams: config.streams,
    consumers,
    inflight: () => ({ calls: 2, callbacks: 1 }),
  });
  const js = nc.jetstream();
  for (let i = 0; i < 3; i++) await publishCall(js, config.streams.subject, call('queued'));
  await publishDeadLetter(js, config.streams, call('dead'), 'every attempt failed', []);
  await publishDeadLetter(js, config.streams, call('dead'), 'every attempt failed', []);

  let samples = parsePromText(await registry.metrics());
  assert.equal(sampleValue(samples, 'gitfaas_queue_worker_jetstream_up'), 1);
  assert.equal(sampleValue(samples, 'gitfaas_queue_worker_consumer_pending', { consumer: consumers.calls }), 3);
  assert.equal(sampleValue(samples, 'gitfaas_queue_worker_consumer_pending', { consumer: consumers.callbacks }), 0);
  assert.equal(sampleValue(samples, 'gitfaas_queue_worker_consumer_ack_pending', { consumer: consumers.calls }), 0);
  assert.equal(sampleValue(samples, 'gitfaas_queue_worker_consumer_redelivered', { consumer: consumers.calls }), 0);
  assert.equal(sampleValue(samples, 'gitfaas_queue_worker_dead_letters'), 2);
  assert.equal(sampleValue(samples, 'gitfaas_queue_worker_dead_letters_total'), 2);
  assert.equal(sampleValue(samples, 'gitfaas_queue_worker_inflight', { kind: 'calls' }), 2);
  assert.equal(sampleValue(samples, 'gitfaas_queue_worker_inflight', { kind: 'callbacks' }), 1);

  // A dead letter replayed (deleted) leaves the stored count lower, the total where it was.
  const jsm = await nc.jetstreamManager();
  await jsm.streams.deleteMessage(config.streams.deadStream, 1);
  samples = parsePromText(await registry.metrics());
  assert.equal(sampleValue(samples, 'gitfaas_queue_worker_dead_letters'), 1);
  assert.equal(sampleValue(samples, 'gitfaas_queue_worker_dead_letters_total'), 2);

  connected = false;
  samples = parsePromText(await registry.metrics());
  assert.equal(sampleValue(samples, 'gitfaas_queue_worker_jetstream_up'), 0);
  assert.equal(sampleValue(samples, 'gitfaas_queue_worker_consumer_pending', { consumer: consumers.calls }), undefined, 'no figure rather than a stale one');
});

test('run alone, the worker serves /healthz and /metrics on GITFAAS_QUEUE_WORKER_HEALTH_PORT', async () => {
  // No calls wait now: drain what the first test left, so this worker has nothing to call.
  const jsm = await nc.jetstreamManager();
  await jsm.streams.purge(config.streams.stream);
  const worker = await startQueueWorker(config, silentLogger());
  try {
    assert.ok(worker.healthUrl, 'a health listener when the port is set');
    // Healthy once the NATS link is up (the worker starts without waiting for it).
    await waitFor('the worker to report healthy', async () => (await fetch(`${worker.healthUrl}/healthz`)).status === 200, 30_000);
    const samples = await waitFor('JetStream figures on /metrics', async () => {
      const s = await scrape(`${worker.healthUrl}/metrics`);
      return sampleValue(s, 'gitfaas_queue_worker_jetstream_up') === 1 ? s : undefined;
    }, 30_000);
    assert.equal(sampleValue(samples, 'gitfaas_queue_worker_dead_letters_total'), 2);
    assert.ok(samples.some((s) => s.name === 'process_cpu_user_seconds_total'), 'run alone, the registry has the default process metrics');
  } finally {
    await worker.stop();
  }
});
