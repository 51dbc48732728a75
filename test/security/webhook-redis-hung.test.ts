// Attack/failure (issue 8 §6): with Redis hung (not down), the receiver answered 503
// "nothing stored" for a delivery that was in fact stored and later built. A real
// redis-server of this test's own (never the shared one) is stopped with SIGSTOP by its
// pid while a delivery is in flight: the answer says what is known (it may be stored;
// redeliver, it will be deduplicated). Once Redis runs again the job is there, and the
// redelivery is deduplicated: one job, not two.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { loadWebhooksConfig } from '../../services/webhooks/config.js';
import { startWebhooks, type RunningWebhooks } from '../../services/webhooks/service.js';
import { BUILDS_QUEUE } from '../../shared/jobs.js';
import { silentLogger } from '../../shared/logger.js';
import { deliverGitHub, pushPayload } from '../helpers/github-payloads.js';
import { waitFor } from '../helpers/wait.js';
import { freePort } from '../helpers/free-port.js';

const secret = randomBytes(20).toString('hex');
const prefix = `t-sec-hung-${randomBytes(4).toString('hex')}`;
let dir: string;
let redisServer: ChildProcess;
let redisUrl: string;
let receiver: RunningWebhooks;
let client: Redis;


before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'gitfaas-sec-hung-'));
  const port = await freePort();
  redisUrl = `redis://127.0.0.1:${port}`;
  redisServer = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  // Reconnects every 50 ms until redis-server listens (slow to start on a loaded machine).
  client = new Redis(redisUrl, { maxRetriesPerRequest: null, retryStrategy: () => 50 });
  client.on('error', () => {});
  await waitFor('our redis-server to answer', async () => client.status === 'ready', 30_000, 50);
  receiver = await startWebhooks(
    loadWebhooksConfig({ GITFAAS_WEBHOOKS_PORT: '0', GITFAAS_REDIS_URL: redisUrl, GITFAAS_QUEUE_PREFIX: prefix, GITHUB_WEBHOOK_SECRET: secret }),
    silentLogger(),
  );
});

after(async () => {
  if (redisServer?.pid) {
    process.kill(redisServer.pid, 'SIGCONT');
    redisServer.kill('SIGTERM');
  }
  await receiver?.stop();
  client?.disconnect();
  await rm(dir, { recursive: true, force: true });
});

test('a hung Redis: 503 saying the delivery may be stored; after it resumes, the redelivery is deduplicated', async () => {
  const owner = `hung${randomBytes(3).toString('hex')}`;
  const repo = { owner, name: 'fns', id: randomInt(1, 2 ** 31), cloneUrl: `https://github.com/${owner}/fns.git`, defaultBranch: 'main' };
  const payload = pushPayload(repo, randomBytes(20).toString('hex'));
  const deliveryId = randomBytes(16).toString('hex');

  process.kill(redisServer.pid!, 'SIGSTOP');
  let hung;
  try {
    hung = await deliverGitHub(receiver.url, 'push', payload, secret, { deliveryId });
  } finally {
    process.kill(redisServer.pid!, 'SIGCONT');
  }
  assert.equal(hung.status, 503, hung.text);
  assert.match(hung.text, /may be stored; redeliver it, it will be deduplicated/);
  assert.doesNotMatch(hung.text, /nothing stored/);
  assert.ok(hung.ms < 8000, `answered within GitHub's 10 s (${Math.round(hung.ms)} ms)`);

  const builds = new Queue(BUILDS_QUEUE, { connection: client, prefix });
  try {
    const jobs = await waitFor('the delivery stored once Redis resumed', async () => {
      const all = await builds.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed']);
      return all.length > 0 ? all : undefined;
    }, 10_000);
    assert.equal(jobs.length, 1);
    const again = await deliverGitHub(receiver.url, 'push', payload, secret, { deliveryId });
    assert.equal(again.status, 202, again.text);
    assert.equal(JSON.parse(again.text).duplicate, true, 'the redelivery found the stored job');
    assert.equal((await builds.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed'])).length, 1, 'one job, not two');
  } finally {
    await builds.close();
  }
});
