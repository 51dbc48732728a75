// The reconciler against the real Redis (a fresh prefix: its build queue, sequence keys,
// build and deploy histories) and the GitHub and GitLab API stand-ins: a head that moved
// without a webhook is enqueued once, whoever ticks; an unchanged head enqueues nothing;
// an API error is logged and tried again next tick; a rollback hold is respected.
// No builder consumes the queue here: test/gitops/reconciler.test.ts builds and deploys.
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import { pino } from 'pino';
import { DeployHistory } from '../../shared/deploy-history.js';
import { BUILDS_QUEUE, buildJobId, type SourceRef } from '../../shared/jobs.js';
import type { Logger } from '../../shared/logger.js';
import { ownerNamespace } from '../../shared/names.js';
import { hostClients } from '../../shared/status-router.js';
import { startFakeGitHub, type FakeGitHub } from '../../test/fakes/github-api.js';
import { startFakeGitLab, type FakeGitLab } from '../../test/fakes/gitlab-api.js';
import { deleteKeys } from '../../test/helpers/redis-keys.js';
import { createAllowlist } from '../../shared/allowlist.js';
import { loadWebhooksConfig } from './config.js';
import { BuildEnqueuer } from './enqueue.js';
import { Reconciler } from './reconciler.js';

const sha = () => randomBytes(20).toString('hex');

describe('reconciler', () => {
  const prefix = `t-recon-${randomBytes(4).toString('hex')}`;
  const token = `ghp_${randomBytes(8).toString('hex')}`;
  const gitlabToken = `glpat-${randomBytes(8).toString('hex')}`;
  const lines: string[] = [];
  const log = pino({ level: 'debug' }, new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) })) as unknown as Logger;
  let github: FakeGitHub;
  let gitlab: FakeGitLab;
  let enqueuer: BuildEnqueuer;
  let queue: Queue;
  let deployHistory: DeployHistory;

  /** A reconciler as the webhooks service builds one, with these credentials. */
  const reconciler = (env: Record<string, string> = {}) => {
    const config = loadWebhooksConfig({
      GITFAAS_QUEUE_PREFIX: prefix,
      GITHUB_API_URL: github.url,
      GITHUB_TOKEN: token,
      GITLAB_URL: gitlab.url,
      GITLAB_TOKEN: gitlabToken,
      ...env,
    });
    const hosts = hostClients(config, enqueuer.redis, log, prefix);
    return new Reconciler({ enqueuer, deployHistory, hosts, allowlist: createAllowlist(config.customers, log), origins: config.gitOrigins, log });
  };

  const githubRepo = (): SourceRef => {
    const owner = `Owner${randomBytes(3).toString('hex')}`;
    const repoId = randomInt(1, 2 ** 31);
    github.addRepository({ id: repoId, owner, name: 'fns' });
    return {
      scm: 'github', owner, repo: 'fns', fullName: `${owner}/fns`, repoId, cloneUrl: `https://github.com/${owner}/fns.git`,
      private: false, sha: sha(), branch: 'main', defaultBranch: 'main', namespace: ownerNamespace('github', owner),
    };
  };

  /** Builds recorded for one commit of a repository (each enqueued build has one). */
  const buildsOf = async (source: SourceRef, commit: string) =>
    (await enqueuer.history.list({ repository: source, limit: 500 })).filter((b) => b.sha === commit);

  const outcomeOf = (outcomes: Awaited<ReturnType<Reconciler['tick']>>, source: SourceRef) => outcomes.find((o) => o.repo === `${source.scm}:${source.fullName}`);

  before(async () => {
    github = await startFakeGitHub({ token });
    gitlab = await startFakeGitLab({ token: gitlabToken });
    enqueuer = new BuildEnqueuer({ redisUrl: 'redis://127.0.0.1:6379', prefix });
    assert.ok(await enqueuer.connected(), 'Redis at 127.0.0.1:6379');
    deployHistory = new DeployHistory(enqueuer.redis, prefix);
    queue = new Queue(BUILDS_QUEUE, { connection: enqueuer.redis, prefix });
  });
  after(async () => {
    await queue?.obliterate({ force: true }).catch(() => {});
    await queue?.close();
    if (enqueuer) await deleteKeys(enqueuer.redis, [`${prefix}:*`]);
    await enqueuer?.close();
    await github?.stop();
    await gitlab?.stop();
  });

  test('a head moved without a webhook is enqueued once, under the receiver\'s own job id; later ticks enqueue nothing', async () => {
    const first = githubRepo();
    await enqueuer.enqueue('push', first, 'delivery-1');
    github.setBranch(first.fullName, 'main', first.sha);
    assert.equal(outcomeOf(await reconciler().tick(), first)?.outcome, 'up-to-date', 'an unchanged head enqueues nothing');
    assert.equal((await enqueuer.history.list({ repository: first })).length, 1);

    const missed = sha();
    github.setBranch(first.fullName, 'main', missed);
    // Two instances at once, then each again: one build.
    const [a, b] = await Promise.all([reconciler().tick(), reconciler().tick()]);
    const outcomes = [outcomeOf(a, first)?.outcome, outcomeOf(b, first)?.outcome];
    assert.equal(outcomes.filter((o) => o === 'enqueued').length, 1, String(outcomes));
    // The other found the job (same id), or, reading after it was stored, the head numbered.
    assert.ok(outcomes.every((o) => o === 'enqueued' || o === 'already-queued' || o === 'up-to-date'), String(outcomes));
    for (const again of [await reconciler().tick(), await reconciler().tick()]) assert.equal(outcomeOf(again, first)?.outcome, 'up-to-date');
    assert.equal((await buildsOf(first, missed)).length, 1);
    const job = await queue.getJob(buildJobId({ ...first, sha: missed }, 'push'));
    assert.ok(job, 'the job has the id the receiver would have given the push');
    assert.equal(job.data.seq, 2, 'numbered after the last push, so it supersedes nothing newer');
    assert.equal(job.data.trigger, 'webhook', 'a new push: it lifts a rollback hold as the push would have');

    // The webhook arriving late finds the job already there.
    const late = await enqueuer.enqueue('push', { ...first, sha: missed }, 'delivery-late');
    assert.equal(late.duplicate, true);
    assert.equal((await buildsOf(first, missed)).length, 1);
  });

  test('an API error is logged and the repository is tried again on the next tick, not a crash', async () => {
    const source = githubRepo();
    await enqueuer.enqueue('push', source, 'delivery-1');
    const missed = sha();
    github.setBranch(source.fullName, 'main', missed);
    github.failNext(new RegExp(`/repos/${source.owner}/fns/branches/`), 502);
    const failed = outcomeOf(await reconciler().tick(), source);
    assert.equal(failed?.outcome, 'error');
    assert.match(failed && 'reason' in failed ? failed.reason : '', /GitHub answered 502/);
    assert.ok(lines.some((l) => l.includes('trying again next tick') && l.includes(source.fullName)), 'the error is logged');
    assert.equal((await buildsOf(source, missed)).length, 0);
    assert.equal(outcomeOf(await reconciler().tick(), source)?.outcome, 'enqueued');

    // Bad credentials: the host's 401, named; the other repositories are still checked.
    const bad = outcomeOf(await reconciler({ GITHUB_TOKEN: 'ghp_wrong' }).tick(), source);
    assert.equal(bad?.outcome, 'error');
    assert.match(bad && 'reason' in bad ? bad.reason : '', /GitHub answered 401/);
  });

  test('a repository the host no longer shows, or a branch it does not have, is an error for that repository only', async () => {
    const gone = githubRepo();
    await enqueuer.enqueue('push', { ...gone, owner: 'Nobody', fullName: 'Nobody/fns' }, 'delivery-1');
    const outcomes = await reconciler().tick();
    const outcome = outcomeOf(outcomes, { ...gone, fullName: 'Nobody/fns' });
    assert.equal(outcome?.outcome, 'error');
    assert.match(outcome && 'reason' in outcome ? outcome.reason : '', /GitHub answered 404/);
  });

  test('GitLab: the project\'s branch through its API; 404 for an unknown project', async () => {
    const owner = `gl${randomBytes(3).toString('hex')}`;
    const repoId = randomInt(1, 2 ** 31);
    const source: SourceRef = {
      scm: 'gitlab', owner, repo: 'fns', fullName: `${owner}/fns`, repoId, cloneUrl: `${gitlab.url}/${owner}/fns.git`,
      private: false, sha: sha(), branch: 'main', defaultBranch: 'main', namespace: ownerNamespace('gitlab', owner),
    };
    await enqueuer.enqueue('push', source, 'gl-1');
    let outcome = outcomeOf(await reconciler().tick(), source);
    assert.match(outcome && 'reason' in outcome ? outcome.reason : '', /GitLab answered 404/);
    gitlab.addProject({ id: repoId, pathWithNamespace: source.fullName });
    outcome = outcomeOf(await reconciler().tick(), source);
    assert.match(outcome && 'reason' in outcome ? outcome.reason : '', /GitLab answered 404/, 'no such branch yet');
    const missed = sha();
    gitlab.setBranch(repoId, 'main', missed);
    assert.equal(outcomeOf(await reconciler().tick(), source)?.outcome, 'enqueued');
    assert.equal(outcomeOf(await reconciler().tick(), source)?.outcome, 'up-to-date');
    assert.equal((await buildsOf(source, missed)).length, 1);
    const unauthorised = outcomeOf(await reconciler({ GITLAB_TOKEN: 'glpat-wrong' }).tick(), source);
    assert.match(unauthorised && 'reason' in unauthorised ? unauthorised.reason : '', /GitLab answered 401/);
  });

  test('a rollback hold: a head the repository already had is not rebuilt; a new one is', async () => {
    const source = githubRepo();
    const older = source.sha;
    await enqueuer.enqueue('push', source, 'delivery-1');
    const newer = sha();
    await enqueuer.enqueue('push', { ...source, sha: newer }, 'delivery-2');
    // Rolled back to the older commit, and the branch itself was reset to it (no event).
    await deployHistory.setHold(source, { sha: older, seq: 2, at: new Date().toISOString() });
    github.setBranch(source.fullName, 'main', older);
    const held = outcomeOf(await reconciler().tick(), source);
    assert.equal(held?.outcome, 'skipped');
    assert.match(held && 'reason' in held ? held.reason : '', /rolled back to/);
    assert.equal((await buildsOf(source, older)).length, 1);
    const fresh = sha();
    github.setBranch(source.fullName, 'main', fresh);
    assert.equal(outcomeOf(await reconciler().tick(), source)?.outcome, 'enqueued');
  });

  test('config: on by default every 5 minutes; a bad interval is a start-up error naming the variable', () => {
    assert.deepEqual(loadWebhooksConfig({}).reconcile, { enabled: true, intervalMs: 300_000 });
    assert.deepEqual(loadWebhooksConfig({ GITFAAS_RECONCILE: 'false', GITFAAS_RECONCILE_INTERVAL: '30s' }).reconcile, { enabled: false, intervalMs: 30_000 });
    assert.throws(() => loadWebhooksConfig({ GITFAAS_RECONCILE_INTERVAL: 'soon' }), /GITFAAS_RECONCILE_INTERVAL/);
    assert.throws(() => loadWebhooksConfig({ GITFAAS_RECONCILE: 'maybe' }), /GITFAAS_RECONCILE/);
  });

  test('an owner no longer on the customer list is not rebuilt', async () => {
    const source = githubRepo();
    await enqueuer.enqueue('push', source, 'delivery-1');
    github.setBranch(source.fullName, 'main', sha());
    const outcome = outcomeOf(await reconciler({ GITFAAS_CUSTOMERS: 'someone-else' }).tick(), source);
    assert.equal(outcome?.outcome, 'skipped');
  });
});
