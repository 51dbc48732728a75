// The GitLab route of the webhook receiver against the real Redis (a BullMQ queue with a
// fresh prefix), GitLab's documented payloads, and the GitLab API stand-in: token
// rotation, the customer list with host-qualified logins, GitLab and GitHub side by side.
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { BUILDS_QUEUE, BuildJob } from '../../shared/jobs.js';
import { silentLogger } from '../../shared/logger.js';
import { startFakeGitLab, type FakeGitLab } from '../../test/fakes/gitlab-api.js';
import { deliverGitHub, pushPayload } from '../../test/helpers/github-payloads.js';
import { deliverGitLab, gitlabMergeRequestPayload, gitlabPushPayload, type GitLabTestProject } from '../../test/helpers/gitlab-payloads.js';
import { waitFor } from '../../test/helpers/wait.js';
import { loadWebhooksConfig } from './config.js';
import { tokenMatches } from './gitlab-route.js';
import { startWebhooks, type RunningWebhooks } from './service.js';
import { deleteKeys } from '../../test/helpers/redis-keys.js';

const secret = randomBytes(16).toString('hex');
const previous = randomBytes(16).toString('hex');
const githubSecret = randomBytes(16).toString('hex');
const token = `glpat-${randomBytes(8).toString('hex')}`;
const sha = () => randomBytes(20).toString('hex');
const run = randomBytes(3).toString('hex');

const ids: number[] = [];
const ghIds: number[] = [];
function project(owner: string): GitLabTestProject {
  const id = randomInt(1, 2 ** 31);
  ids.push(id);
  return { owner, name: 'fns', id, cloneUrl: `https://gitlab.example.com/${owner}/fns.git`, defaultBranch: 'main' };
}

describe('GitLab webhook receiver', () => {
  let fake: FakeGitLab;
  let receiver: RunningWebhooks;
  let queue: Queue;
  let redis: Redis;
  let dir: string;
  const prefix = `t-glwh-${run}`;
  // "both" is listed plainly, "gl" as gitlab:, "gh" as github: only.
  const [both, gl, gh] = [`both${run}`, `gl${run}`, `gh${run}`];

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'gitfaas-glwh-'));
    const customers = path.join(dir, 'customers');
    await writeFile(customers, `${both}\ngitlab:${gl.toUpperCase()}\ngithub:${gh}\n`);
    fake = await startFakeGitLab({ token });
    receiver = await startWebhooks(
      loadWebhooksConfig({
        GITFAAS_WEBHOOKS_PORT: '0',
        GITFAAS_QUEUE_PREFIX: prefix,
        GITLAB_WEBHOOK_SECRET: secret,
        GITLAB_WEBHOOK_SECRET_PREVIOUS: previous,
        GITHUB_WEBHOOK_SECRET: githubSecret,
        GITFAAS_CUSTOMERS_FILE: customers,
        GITLAB_URL: fake.url,
        GITLAB_TOKEN: token,
        // Where the test's projects say they are cloned from (nothing is cloned here).
        GITFAAS_GIT_HOSTS: 'https://gitlab.example.com',
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

  const jobFor = async (text: string) => BuildJob.parse((await queue.getJob(JSON.parse(text).jobId))!.data);

  test('a Push Hook to the default branch is a push build of the gl- namespace, stored before 202', async () => {
    const p = project(both);
    const commit = sha();
    const res = await deliverGitLab(receiver.url, 'Push Hook', gitlabPushPayload(p, commit), secret);
    assert.equal(res.status, 202, res.text);
    const job = await jobFor(res.text);
    assert.equal(job.kind, 'push');
    assert.equal(job.deliveryId, res.uuid);
    assert.equal(job.source.scm, 'gitlab');
    assert.equal(job.source.namespace, `gl-${both}`);
    assert.equal(job.source.sha, commit);
  });

  test('the previous secret is accepted during rotation; the comparison takes any length', async () => {
    const res = await deliverGitLab(receiver.url, 'Push Hook', gitlabPushPayload(project(both), sha()), previous);
    assert.equal(res.status, 202, res.text);
    const digests = [secret, previous].map((s) => createHash('sha256').update(s).digest());
    assert.equal(tokenMatches(secret, digests), true);
    assert.equal(tokenMatches('', digests), false);
    assert.equal(tokenMatches(`${secret}x`, digests), false);
    assert.equal(tokenMatches('x'.repeat(10_000), digests), false);
  });

  test('a Merge Request Hook becomes a pull_request build of its head commit', async () => {
    const head = sha();
    const res = await deliverGitLab(receiver.url, 'Merge Request Hook', gitlabMergeRequestPayload(project(both), head, 'feature'), secret);
    assert.equal(res.status, 202, res.text);
    const job = await jobFor(res.text);
    assert.equal(job.kind, 'pull_request');
    assert.equal(job.source.sha, head);
    assert.equal(job.source.branch, 'feature');
    assert.equal(job.source.pullRequest, 1);
  });

  test('the customer list: plain logins match both hosts, gitlab: and github: only their host', async () => {
    const ok = await deliverGitLab(receiver.url, 'Push Hook', gitlabPushPayload(project(gl), sha()), secret);
    assert.equal(ok.status, 202, ok.text);
    const refusedSha = sha();
    const refused = await deliverGitLab(receiver.url, 'Push Hook', gitlabPushPayload(project(gh), refusedSha), secret);
    assert.equal(refused.status, 403);
    assert.match(refused.text, /customer list/);
    const status = await waitFor('the GitLab status of the refused commit', async () => fake.latestFor(refusedSha).get('gitfaas'));
    assert.equal(status.state, 'failed');
    const githubRepo = { owner: gl, name: `r${run}`, id: randomInt(1, 2 ** 31), cloneUrl: `https://github.com/${gl}/r${run}.git` };
    ghIds.push(githubRepo.id);
    const viaGitHub = await deliverGitHub(receiver.url, 'push', pushPayload(githubRepo, sha()), githubSecret);
    assert.equal(viaGitHub.status, 403, 'gitlab:login does not allow the same login on GitHub');
    const jobs = await queue.getJobs(['waiting', 'delayed', 'active']);
    assert.equal(jobs.filter((j) => j.data.source.owner === gh || j.data.source.scm === 'github').length, 0);
  });
});

describe('GitLab webhook receiver configuration', () => {
  test('without GITLAB_WEBHOOK_SECRET every GitLab delivery gets 503, never accepted unverified', async () => {
    const receiver = await startWebhooks(loadWebhooksConfig({ GITFAAS_WEBHOOKS_PORT: '0', GITFAAS_QUEUE_PREFIX: 't-gl-nosecret' }), silentLogger());
    try {
      const res = await deliverGitLab(receiver.url, 'Push Hook', gitlabPushPayload(project('nobody'), sha()), 'anything');
      assert.equal(res.status, 503);
      assert.match(res.text, /GITLAB_WEBHOOK_SECRET/);
    } finally {
      await receiver.stop();
    }
  });

  test('with Redis unreachable a verified delivery gets 503 within the timeout, so GitLab redelivers it', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const receiver = await startWebhooks(
      loadWebhooksConfig({ GITFAAS_WEBHOOKS_PORT: '0', GITFAAS_QUEUE_PREFIX: 't-gl-down', GITFAAS_REDIS_URL: `redis://127.0.0.1:${port}`, GITLAB_WEBHOOK_SECRET: secret, GITFAAS_GIT_HOSTS: 'https://gitlab.example.com' }),
      silentLogger(),
    );
    try {
      const started = Date.now();
      const res = await deliverGitLab(receiver.url, 'Push Hook', gitlabPushPayload(project('nobody'), sha()), secret);
      assert.equal(res.status, 503);
      assert.match(res.text, /redeliver/);
      assert.ok(Date.now() - started < 5000, `answered in ${Date.now() - started} ms`);
    } finally {
      await receiver.stop();
    }
  });

  test('bad settings name the variable', () => {
    assert.throws(() => loadWebhooksConfig({ GITLAB_WEBHOOK_SECRET_PREVIOUS: 'x' }), /GITLAB_WEBHOOK_SECRET_PREVIOUS is set without GITLAB_WEBHOOK_SECRET/);
    assert.throws(() => loadWebhooksConfig({ GITLAB_WEBHOOK_SECRET: 'a', GITLAB_WEBHOOK_SECRET_FILE: '/x' }), /both set/);
    assert.throws(() => loadWebhooksConfig({ GITLAB_URL: 'gitlab.example.com' }), /GITLAB_URL/);
  });
});
