// The webhook receiver against the real Redis (a BullMQ queue with a fresh prefix), real
// captured GitHub payloads signed with a real secret, and the GitHub API stand-in.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { BUILDS_QUEUE, BuildJob } from '../../shared/jobs.js';
import { silentLogger } from '../../shared/logger.js';
import { startFakeGitHub, type FakeGitHub } from '../../test/fakes/github-api.js';
import { deliverGitHub, loadGitHubFixture, pullRequestPayload, pushPayload, type TestRepo } from '../../test/helpers/github-payloads.js';
import { waitFor } from '../../test/helpers/wait.js';
import { loadWebhooksConfig } from './config.js';
import { isSuperseded, seqKey } from '../../shared/supersede.js';
import { startWebhooks, type RunningWebhooks } from './service.js';
import { deleteKeys } from '../../test/helpers/redis-keys.js';

const secret = randomBytes(16).toString('hex');
const previousSecret = randomBytes(16).toString('hex');
const token = `ghp_${randomBytes(8).toString('hex')}`;
const sha = () => randomBytes(20).toString('hex');

const repoIds: number[] = [];
function testRepo(owner = `Owner${randomBytes(3).toString('hex')}`): TestRepo {
  const id = randomInt(1, 2 ** 31);
  repoIds.push(id);
  return { owner, name: 'Hello-World', id, cloneUrl: `https://github.com/${owner}/Hello-World.git` };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('GitHub webhook receiver', () => {
  let fake: FakeGitHub;
  let receiver: RunningWebhooks;
  let queue: Queue;
  let redis: Redis;
  let dir: string;
  let customersFile: string;
  const prefix = `t-wh-${randomBytes(4).toString('hex')}`;
  const allowed = testRepo();

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'gitfaas-wh-'));
    customersFile = path.join(dir, 'customers');
    await writeFile(customersFile, `# customers\n${allowed.owner.toUpperCase()}\n`);
    fake = await startFakeGitHub({ token });
    receiver = await startWebhooks(
      loadWebhooksConfig({
        GITFAAS_WEBHOOKS_PORT: '0',
        GITFAAS_QUEUE_PREFIX: prefix,
        GITHUB_WEBHOOK_SECRET: secret,
        GITHUB_WEBHOOK_SECRET_PREVIOUS: previousSecret,
        GITFAAS_CUSTOMERS_FILE: customersFile,
        GITHUB_API_URL: fake.url,
        GITHUB_TOKEN: token,
      }),
      silentLogger(),
    );
    redis = new Redis('redis://127.0.0.1:6379');
    queue = new Queue(BUILDS_QUEUE, { connection: redis, prefix });
  });

  after(async () => {
    await receiver?.stop();
    await queue?.obliterate({ force: true }).catch(() => {});
    await queue?.close();
    await deleteKeys(redis, [`${prefix}:*`]);
    redis?.disconnect();
    await fake?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const jobs = async () => (await queue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed'])).map((j) => BuildJob.parse(j.data));

  test('a signed push to the default branch is stored as a push build job before 202', async () => {
    const commit = sha();
    const res = await deliverGitHub(receiver.url, 'push', pushPayload({ ...allowed, installationId: 42 }, commit), secret);
    assert.equal(res.status, 202, res.text);
    const body = JSON.parse(res.text);
    const job = await queue.getJob(body.jobId);
    assert.ok(job, 'the job is in Redis when the answer arrives');
    const data = BuildJob.parse(job.data);
    assert.equal(data.kind, 'push');
    assert.equal(data.deliveryId, res.deliveryId);
    assert.equal(data.source.sha, commit);
    assert.equal(data.source.owner, allowed.owner);
    assert.equal(data.source.namespace, `gh-${allowed.owner.toLowerCase()}`);
    assert.equal(data.source.branch, 'master');
    assert.equal(data.source.installationId, 42);
    assert.equal(data.source.cloneUrl, allowed.cloneUrl);
    assert.ok(data.seq >= 1);
    assert.equal(Number(await redis.get(seqKey(prefix, data.source))), data.seq);
    assert.doesNotMatch(JSON.stringify(job.data), new RegExp(token));
  });

  test('the previous secret is accepted during rotation', async () => {
    const res = await deliverGitHub(receiver.url, 'push', pushPayload(allowed, sha()), previousSecret);
    assert.equal(res.status, 202, res.text);
  });

  test('a redelivered event builds once and keeps its seq; a newer commit gets a higher seq', async () => {
    const commit = sha();
    const payload = pushPayload(allowed, commit);
    const first = await deliverGitHub(receiver.url, 'push', payload, secret);
    const again = await deliverGitHub(receiver.url, 'push', payload, secret, { deliveryId: first.deliveryId });
    const repeated = await deliverGitHub(receiver.url, 'push', payload, secret);
    assert.deepEqual([first.status, again.status, repeated.status], [202, 202, 202]);
    const [a, b, c] = [first, again, repeated].map((r) => JSON.parse(r.text));
    assert.equal(a.duplicate, false);
    assert.equal(b.duplicate, true);
    assert.equal(c.duplicate, true);
    assert.equal(a.seq, b.seq);
    assert.equal(a.seq, c.seq);
    assert.equal((await jobs()).filter((j) => j.source.sha === commit).length, 1);
    const stored = BuildJob.parse((await queue.getJob(a.jobId))!.data);
    assert.equal(await isSuperseded(redis, prefix, stored), undefined, 'a redelivery does not supersede its own build');
    const newer = JSON.parse((await deliverGitHub(receiver.url, 'push', pushPayload(allowed, sha()), secret)).text);
    assert.equal(newer.seq, a.seq + 1);
    assert.deepEqual(await isSuperseded(redis, prefix, stored), { seq: newer.seq, sha: (await queue.getJob(newer.jobId))!.data.source.sha });
  });

  test('bad or missing signatures get 401 and nothing is stored', async () => {
    const before = (await jobs()).length;
    const commit = sha();
    const payload = pushPayload(allowed, commit);
    const wrong = await deliverGitHub(receiver.url, 'push', payload, 'not-the-secret');
    assert.equal(wrong.status, 401);
    assert.match(wrong.text, /GITHUB_WEBHOOK_SECRET/);
    const missing = await deliverGitHub(receiver.url, 'push', payload, secret, { signature: null });
    assert.equal(missing.status, 401);
    const garbage = await deliverGitHub(receiver.url, 'push', payload, secret, { signature: 'sha256=zz' });
    assert.equal(garbage.status, 401);
    // A body changed after signing fails too.
    const signedOther = await deliverGitHub(receiver.url, 'push', payload, secret, {
      body: JSON.stringify(pushPayload(allowed, sha())),
      signature: (await import('../../test/helpers/github-payloads.js')).signGitHub(secret, JSON.stringify(payload)),
    });
    assert.equal(signedOther.status, 401);
    assert.equal((await jobs()).length, before);
  });

  test('missing headers and malformed JSON get 400 and nothing is stored', async () => {
    const before = (await jobs()).length;
    const body = '{"ref": "refs/heads/master",';
    const malformed = await deliverGitHub(receiver.url, 'push', undefined, secret, { body });
    assert.equal(malformed.status, 400);
    assert.match(malformed.text, /malformed JSON/);
    const res = await fetch(`${receiver.url}/webhooks/github`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': (await import('../../test/helpers/github-payloads.js')).signGitHub(secret, '{}') },
      body: '{}',
    });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /X-GitHub-Event/);
    const incomplete = await deliverGitHub(receiver.url, 'push', { ref: 'refs/heads/master' }, secret);
    assert.equal(incomplete.status, 400);
    assert.equal((await jobs()).length, before);
  });

  test('ping answers 200, other events 202 ignored', async () => {
    const ping = await deliverGitHub(receiver.url, 'ping', loadGitHubFixture('ping'), secret);
    assert.equal(ping.status, 200);
    const star = await deliverGitHub(receiver.url, 'star', { action: 'created', repository: {} }, secret);
    assert.equal(star.status, 202);
    assert.match(star.text, /ignored/);
    const tag = pushPayload(allowed, sha());
    tag.ref = 'refs/tags/v1';
    assert.equal((await deliverGitHub(receiver.url, 'push', tag, secret)).status, 202);
    const labelled = await deliverGitHub(receiver.url, 'pull_request', pullRequestPayload(allowed, sha(), 'changes', 'labeled'), secret);
    assert.equal(labelled.status, 202);
    assert.match(labelled.text, /ignored/);
    // A closed pull request is not built: its previews' removal is queued instead.
    const closed = await deliverGitHub(receiver.url, 'pull_request', pullRequestPayload(allowed, sha(), 'changes', 'closed'), secret);
    assert.equal(closed.status, 202);
    assert.match(closed.text, /preview removal queued: pull request closed/);
  });

  test('a push to another branch builds nothing and the commit gets a success status saying why', async () => {
    const before = (await jobs()).length;
    const commit = sha();
    const res = await deliverGitHub(receiver.url, 'push', pushPayload(allowed, commit, 'feature/x'), secret);
    assert.equal(res.status, 202);
    const status = await waitFor('the status that explains the skip', async () => fake.statusesFor(commit)[0]);
    assert.equal(status.state, 'success');
    assert.equal(status.context, 'gitfaas');
    assert.match(status.description!, /default branch \(master\).*feature\/x/);
    assert.equal((await jobs()).length, before);
  });

  test('pull_request opened, synchronize, reopened become pull_request builds of the head commit', async () => {
    for (const action of ['opened', 'synchronize', 'reopened']) {
      const head = sha();
      const res = await deliverGitHub(receiver.url, 'pull_request', pullRequestPayload(allowed, head, 'changes', action), secret);
      assert.equal(res.status, 202, res.text);
      const job = BuildJob.parse((await queue.getJob(JSON.parse(res.text).jobId))!.data);
      assert.equal(job.kind, 'pull_request');
      assert.equal(job.source.sha, head);
      assert.equal(job.source.branch, 'changes');
      assert.equal(job.source.pullRequest, 2);
    }
  });

  test('an owner not on the customer list gets no build and a failure status; the file is re-read', async () => {
    const stranger = testRepo();
    const commit = sha();
    const res = await deliverGitHub(receiver.url, 'push', pushPayload(stranger, commit), secret);
    assert.equal(res.status, 403);
    assert.match(res.text, /customer list/);
    const status = await waitFor('the allowlist failure status', async () => fake.statusesFor(commit)[0]);
    assert.equal(status.state, 'failure');
    assert.equal((await jobs()).filter((j) => j.source.owner === stranger.owner).length, 0);

    await writeFile(customersFile, `${allowed.owner}\n${stranger.owner.toLowerCase()}   # added later\n`);
    const later = await deliverGitHub(receiver.url, 'push', pushPayload(stranger, sha()), secret);
    assert.equal(later.status, 202, later.text);
  });
});

describe('GitHub webhook receiver configuration', () => {
  test('without GITHUB_WEBHOOK_SECRET every GitHub delivery gets 503, never accepted unverified', async () => {
    const receiver = await startWebhooks(loadWebhooksConfig({ GITFAAS_WEBHOOKS_PORT: '0', GITFAAS_QUEUE_PREFIX: 't-nosecret' }), silentLogger());
    try {
      const res = await deliverGitHub(receiver.url, 'push', pushPayload(testRepo(), sha()), 'anything');
      assert.equal(res.status, 503);
      assert.match(res.text, /GITHUB_WEBHOOK_SECRET/);
    } finally {
      await receiver.stop();
    }
  });

  test('bad settings name the variable', () => {
    assert.throws(() => loadWebhooksConfig({ GITHUB_WEBHOOK_SECRET_PREVIOUS: 'x' }), /GITHUB_WEBHOOK_SECRET_PREVIOUS is set without GITHUB_WEBHOOK_SECRET/);
    assert.throws(() => loadWebhooksConfig({ GITFAAS_WEBHOOKS_PORT: 'http' }), /GITFAAS_WEBHOOKS_PORT/);
    assert.throws(() => loadWebhooksConfig({ GITFAAS_CUSTOMERS: 'a', GITFAAS_CUSTOMERS_FILE: '/x' }), /both set/);
    assert.throws(() => loadWebhooksConfig({ GITHUB_WEBHOOK_SECRET: 'a', GITHUB_WEBHOOK_SECRET_FILE: '/x' }), /both set/);
  });
});

describe('GitHub webhook receiver without Redis', () => {
  test('answers 503 while Redis is down, stores nothing, and 202 once it is back', async () => {
    const port = await freePort();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'gitfaas-redis-'));
    const startRedis = () =>
      spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
        stdio: 'ignore',
      });
    let server: ChildProcess | undefined;
    const receiver = await startWebhooks(
      loadWebhooksConfig({
        GITFAAS_WEBHOOKS_PORT: '0',
        GITFAAS_REDIS_URL: `redis://127.0.0.1:${port}`,
        GITFAAS_QUEUE_PREFIX: 't-down',
        GITHUB_WEBHOOK_SECRET: secret,
      }),
      silentLogger(),
    );
    try {
      const repo = testRepo();
      const down = await deliverGitHub(receiver.url, 'push', pushPayload(repo, sha()), secret);
      assert.equal(down.status, 503);
      assert.match(down.text, /redeliver/);
      assert.ok(down.ms < 5000, `503 within the timeout, took ${down.ms} ms`);

      server = startRedis();
      const commit = sha();
      const res = await waitFor(
        'a 202 once Redis is up',
        async () => {
          const r = await deliverGitHub(receiver.url, 'push', pushPayload(repo, commit), secret);
          return r.status === 202 ? r : undefined;
        },
        20_000,
        200,
      );
      const redis = new Redis(`redis://127.0.0.1:${port}`);
      const queue = new Queue(BUILDS_QUEUE, { connection: redis, prefix: 't-down' });
      const job = await queue.getJob(JSON.parse(res.text).jobId);
      assert.equal(BuildJob.parse(job!.data).source.sha, commit);
      assert.equal((await queue.getJobCounts('waiting')).waiting, 1, 'the 503 delivery stored nothing');
      await queue.close();
      redis.disconnect();
    } finally {
      await receiver.stop();
      server?.kill();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
