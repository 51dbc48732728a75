// Queue depth and oldest waiting job against the real Redis, on a queue of our own prefix
// with no worker, so the jobs stay where the test put them.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { after, test } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { deleteKeys } from '../test/helpers/redis-keys.js';
import { parsePromText, sampleValue } from '../test/helpers/prom-text.js';
import { registerQueueMetrics } from './queue-metrics.js';

const prefix = `t-qmetrics-${randomBytes(4).toString('hex')}`;
const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const builds = new Queue('builds', { connection: redis, prefix });
const deploys = new Queue('deploys', { connection: redis, prefix });

after(async () => {
  await builds.obliterate({ force: true }).catch(() => {});
  await deploys.obliterate({ force: true }).catch(() => {});
  await builds.close();
  await deploys.close();
  await deleteKeys(redis, [`${prefix}:*`]);
  redis.disconnect();
});

test('jobs by state and the oldest waiting job\'s age, per queue, read at scrape time', async () => {
  const registry = new Registry();
  let now = Date.now();
  registerQueueMetrics(registry, 'gitfaas_test', [builds, deploys], () => now);
  let samples = parsePromText(await registry.metrics());
  assert.equal(sampleValue(samples, 'gitfaas_test_queue_jobs', { queue: 'builds', state: 'waiting' }), 0);
  assert.equal(sampleValue(samples, 'gitfaas_test_queue_oldest_waiting_seconds', { queue: 'builds' }), 0, 'an empty queue has no waiting age');

  const first = await builds.add('b', { n: 1 });
  await builds.add('b', { n: 2 });
  await builds.add('b', { n: 3 }, { priority: 5 });
  await builds.add('b', { n: 4 }, { delay: 60_000 });
  await deploys.add('d', { n: 1 });
  now = first.timestamp + 42_000;
  samples = parsePromText(await registry.metrics());
  assert.equal(sampleValue(samples, 'gitfaas_test_queue_jobs', { queue: 'builds', state: 'waiting' }), 2);
  assert.equal(sampleValue(samples, 'gitfaas_test_queue_jobs', { queue: 'builds', state: 'prioritized' }), 1);
  assert.equal(sampleValue(samples, 'gitfaas_test_queue_jobs', { queue: 'builds', state: 'delayed' }), 1);
  assert.equal(sampleValue(samples, 'gitfaas_test_queue_jobs', { queue: 'builds', state: 'active' }), 0);
  assert.equal(sampleValue(samples, 'gitfaas_test_queue_jobs', { queue: 'deploys', state: 'waiting' }), 1);
  assert.equal(sampleValue(samples, 'gitfaas_test_queue_oldest_waiting_seconds', { queue: 'builds' }), 42, 'the first job added is the oldest');
  const deployAge = sampleValue(samples, 'gitfaas_test_queue_oldest_waiting_seconds', { queue: 'deploys' })!;
  assert.ok(deployAge > 0 && deployAge <= 42, `deploys' oldest waited ${deployAge} s`);
});

test('a queue whose Redis does not answer is left out of the scrape, which neither hangs nor fails', async () => {
  // A peer that accepts the connection and never answers: every Redis command waits, as
  // when Redis hangs or a network path drops packets (BullMQ's connections never give up).
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const down = new Redis({ host: '127.0.0.1', port: (silent.address() as AddressInfo).port, maxRetriesPerRequest: null, enableReadyCheck: false });
  down.on('error', () => {});
  const unreachable = new Queue('builds', { connection: down, prefix });
  unreachable.on('error', () => {});
  const registry = new Registry();
  registerQueueMetrics(registry, 'gitfaas_down', [unreachable]);
  try {
    const started = Date.now();
    const samples = parsePromText(await registry.metrics());
    const took = Date.now() - started;
    assert.ok(took >= 1_500 && took < 10_000, `the scrape waited for the read timeout, then ended (${took} ms)`);
    assert.equal(samples.filter((s) => s.name.startsWith('gitfaas_down_')).length, 0, 'no figure rather than a made-up one');
  } finally {
    down.disconnect();
    await unreachable.close().catch(() => {});
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  }
});
