// Queue depth and oldest waiting job against the real Redis, on a queue of our own prefix
// with no worker, so the jobs stay where the test put them.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
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
