// Attack (issue 8 §3): a validly signed webhook whose clone URL points elsewhere. In token
// mode every repository's webhook shares one secret, so any repository owner can sign.
// The receiver must refuse, with a 400 naming why, a clone URL on a host nobody
// configured (it would receive the token), a file:// URL (another owner's repository on
// the builder's disk), a URL with userinfo, and a URL on an allowed host that names
// another repository; nothing is queued and the other host hears nothing. The
// legitimate URL is accepted.
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { loadWebhooksConfig } from '../../services/webhooks/config.js';
import { startWebhooks, type RunningWebhooks } from '../../services/webhooks/service.js';
import { BUILDS_QUEUE } from '../../shared/jobs.js';
import { silentLogger } from '../../shared/logger.js';
import { startGitHttpServer, type GitHttpServer } from '../builder/git-http-server.js';
import { TestRepo } from '../builder/git-repo.js';
import { startFakeGitHub, type FakeGitHub } from '../fakes/github-api.js';
import { deliverGitHub, pushPayload } from '../helpers/github-payloads.js';
import { deleteKeys } from '../helpers/redis-keys.js';

const run = randomBytes(4).toString('hex');
const prefix = `t-sec-url-${run}`;
const secret = randomBytes(20).toString('hex');
const token = `ghp_${randomBytes(10).toString('hex')}`;
const owner = `alice${run}`;
const sha = () => randomBytes(20).toString('hex');

describe('a signed webhook cannot choose where gitfaas clones from', () => {
  let root: string;
  let allowed: GitHttpServer;
  let elsewhere: GitHttpServer;
  let github: FakeGitHub;
  let receiver: RunningWebhooks;
  let redis: Redis;
  let builds: Queue;
  let victim: TestRepo;
  const repoId = randomInt(1, 2 ** 31);

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'gitfaas-sec-url-'));
    allowed = await startGitHttpServer(path.join(root, 'allowed'));
    // A real git host on another port: had git been sent there, it would have answered.
    elsewhere = await startGitHttpServer(path.join(root, 'elsewhere'));
    await (await TestRepo.create(path.join(root, 'w1'), path.join(root, 'elsewhere', owner, 'fns.git'))).commit({ 'stack.yml': 'functions: {}\n' });
    victim = await TestRepo.create(path.join(root, 'w2'), path.join(root, 'disk', 'bob', 'secret.git'));
    await victim.commit({ 'stack.yml': 'functions: {}\n' });
    github = await startFakeGitHub({ token });
    receiver = await startWebhooks(
      loadWebhooksConfig({
        GITFAAS_WEBHOOKS_PORT: '0',
        GITFAAS_QUEUE_PREFIX: prefix,
        GITHUB_WEBHOOK_SECRET: secret,
        GITHUB_API_URL: github.url,
        GITHUB_TOKEN: token,
        GITFAAS_GIT_HOSTS: allowed.url,
      }),
      silentLogger(),
    );
    redis = new Redis('redis://127.0.0.1:6379');
    builds = new Queue(BUILDS_QUEUE, { connection: redis, prefix });
  });

  after(async () => {
    await receiver?.stop();
    await builds?.obliterate({ force: true }).catch(() => {});
    await builds?.close();
    await deleteKeys(redis, [`${prefix}:*`]);
    redis?.disconnect();
    await github?.stop();
    await allowed?.close();
    await elsewhere?.close();
    await rm(root, { recursive: true, force: true });
  });

  const push = (cloneUrl: string, commit = sha()) =>
    deliverGitHub(receiver.url, 'push', pushPayload({ owner, name: 'fns', id: repoId, cloneUrl, defaultBranch: 'main', private: true }, commit), secret);

  const queued = async () => (await builds.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed'])).length;

  test('a clone URL on an unconfigured host: 400 naming the allowed origins; that host hears nothing', async () => {
    const res = await push(`${elsewhere.url}/${owner}/fns.git`);
    assert.equal(res.status, 400, res.text);
    assert.match(res.text, new RegExp(`clone URL on ${elsewhere.url.replace(/\./g, '\\.')} refused: .*cloned only from https://github\\.com, ${allowed.url.replace(/\./g, '\\.')}.*GITFAAS_GIT_HOSTS`));
    assert.deepEqual(elsewhere.requests, [], 'git never reached the other host');
    assert.deepEqual(elsewhere.authorizations, [], 'no token reached the other host');
    assert.equal(await queued(), 0);
  });

  test("a file:// URL of another owner's repository on disk: 400", async () => {
    const res = await push(victim.url);
    assert.equal(res.status, 400, res.text);
    assert.match(res.text, /clone URL on file:\/\/ refused/);
    const ssh = await push(`ssh://git@127.0.0.1:22/${owner}/fns.git`);
    assert.equal(ssh.status, 400, 'ssh is refused unless an ssh origin is configured');
    assert.equal(await queued(), 0);
  });

  test('userinfo in the URL, or a path naming another repository on an allowed host: 400', async () => {
    const host = new URL(allowed.url).host;
    const userinfo = await push(`http://mallory:pw@${host}/${owner}/fns.git`);
    assert.equal(userinfo.status, 400);
    assert.match(userinfo.text, /carries a user or password/);
    const other = await push(`${allowed.url}/bob/secret.git`);
    assert.equal(other.status, 400);
    assert.match(other.text, new RegExp(`path /bob/secret\\.git does not name the repository ${owner}/fns`));
    assert.equal(await queued(), 0);
  });

  test('the repository on a configured origin is accepted (same origin, any case, with or without .git)', async () => {
    const res = await push(`${allowed.url}/${owner.toUpperCase()}/fns`);
    assert.equal(res.status, 202, res.text);
    assert.equal(await queued(), 1);
  });
});
