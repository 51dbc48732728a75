// The deployer against the real gateway (Docker provider), real Redis/BullMQ and the
// GitHub API stand-in: deploy jobs are put on the deploys queue as the builder would.
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { DeployJob, type BuildJob, type BuiltFunction } from '../../shared/jobs.js';
import { ownerNamespace } from '../../shared/names.js';
import { seqKey } from '../../shared/supersede.js';
import { LABEL } from '../../services/deployer/deployment.js';
import type { RunningService } from '../../shared/run-service.js';
import type { FakeGitHub } from '../fakes/github-api.js';
import { startDeployerStack, type DeployerStack } from '../helpers/deployer-stack.js';
import type { TestGateway } from '../helpers/gateway.js';
import { fixtureImage } from '../helpers/images.js';
import { waitFor } from '../helpers/wait.js';

const token = `ghp_${randomBytes(8).toString('hex')}`;
const sha = () => randomBytes(20).toString('hex');

describe('deployer', () => {
  let gateway: TestGateway;
  let fake: FakeGitHub;
  let deployer: RunningService;
  let redis: Redis;
  let queue: Queue;
  let image: string;
  const prefix = `t-dep-${randomBytes(4).toString('hex')}`;
  const owner = `Dep${randomBytes(3).toString('hex')}`;
  const namespace = ownerNamespace('github', owner);
  const repoId = randomInt(1, 2 ** 31);
  let seq = 0;

  let stack: DeployerStack | undefined;
  before(async () => {
    stack = await startDeployerStack({ prefix, token });
    ({ gateway, fake, deployer, redis, queue, image } = stack);
  });

  after(async () => {
    await stack?.stop();
  });

  function build(commit: string, jobSeq: number, repo = { id: repoId, name: 'fns' }): BuildJob {
    return {
      kind: 'push',
      deliveryId: randomBytes(8).toString('hex'),
      seq: jobSeq,
      receivedAt: new Date().toISOString(),
      source: {
        scm: 'github',
        owner,
        repo: repo.name,
        fullName: `${owner}/${repo.name}`,
        repoId: repo.id,
        cloneUrl: '/tmp/none.git',
        private: false,
        sha: commit,
        branch: 'master',
        defaultBranch: 'master',
        namespace,
      },
    };
  }

  const fn = (name: string, version: string, img = image): BuiltFunction =>
    ({ name, image: img, envVars: { VERSION: version }, labels: { team: 'x' }, annotations: {}, secrets: [], buildSeconds: 1.5 }) as BuiltFunction;

  /** Enqueues a deploy as the builder does, bumping the branch's seq as the receiver does. */
  async function deploy(functions: BuiltFunction[], opts: { seq?: number; repo?: { id: number; name: string } } = {}) {
    const commit = sha();
    const jobSeq = opts.seq ?? ++seq;
    const b = build(commit, jobSeq, opts.repo);
    if (opts.seq === undefined) await redis.set(seqKey(prefix, b.source), jobSeq);
    const job: DeployJob = DeployJob.parse({ build: b, functions, logUrl: 'http://127.0.0.1:8081/logs/x', stages: { clone: 0.2, build: 3 } });
    await queue.add('deploy', job, { jobId: `deploy-${commit}` });
    const aggregate = await waitFor(
      'the aggregate status to settle',
      async () => fake.statusesFor(commit, 'gitfaas').find((s) => s.state === 'success' || s.state === 'failure'),
      60_000,
    );
    return { commit, aggregate };
  }

  const call = async (name: string) => {
    const res = await fetch(`${gateway.url}/function/${name}.${namespace}`);
    return { status: res.status, body: res.status === 200 ? ((await res.json()) as { version: string }) : undefined };
  };

  test('deploys into the owner namespace with git labels, waits until it answers, reports success', async () => {
    const { commit, aggregate } = await deploy([fn('hello', 'v1'), fn('second', 'v1')]);
    assert.equal(aggregate.state, 'success', aggregate.description);
    // By the success status the functions answer already: no waiting here.
    assert.equal((await call('hello')).body?.version, 'v1');
    assert.equal((await call('second')).status, 200);
    const hello = fake.statusesFor(commit, 'gitfaas/hello');
    assert.deepEqual(hello.map((s) => s.state), ['pending', 'success']);
    assert.equal(hello[1].target_url, `${gateway.url}/function/hello.${namespace}`);
    assert.match(hello[1].description!, /live: built in 1\.5 s, deployed in/);
    const res = await fetch(`${gateway.url}/system/function/hello?namespace=${namespace}`, { headers: { authorization: gateway.authHeader } });
    const status = (await res.json()) as { labels: Record<string, string> };
    assert.equal(status.labels[LABEL.owner], owner);
    assert.equal(status.labels[LABEL.repo], 'fns');
    assert.equal(status.labels[LABEL.sha], commit);
    assert.equal(status.labels[LABEL.branch], 'master');
    assert.equal(status.labels[LABEL.scm], 'github');
    assert.equal(status.labels[LABEL.repoId], String(repoId));
    assert.match(status.labels[LABEL.deployTime], /^\d{10}$/);
    assert.equal(status.labels.team, 'x');
  });

  test('a later commit updates in place and removes the functions it no longer lists, never another repository\'s', async () => {
    // Another repository of the same owner has a function in the same namespace.
    const other = { id: repoId + 1, name: 'other' };
    const { aggregate: otherDone } = await deploy([fn('keepme', 'v1')], { repo: other });
    assert.equal(otherDone.state, 'success', otherDone.description);

    const { commit, aggregate } = await deploy([fn('hello', 'v2')]);
    assert.equal(aggregate.state, 'success', aggregate.description);
    assert.match(aggregate.description!, /removed second/);
    assert.equal((await call('hello')).body?.version, 'v2');
    assert.equal((await call('second')).status, 404);
    assert.equal((await call('keepme')).status, 200, 'another repository\'s function stays');
    assert.deepEqual(fake.statusesFor(commit, 'gitfaas/hello').map((s) => s.state), ['pending', 'success']);
  });

  test('an older commit never replaces a newer one', async () => {
    const newest = seq;
    const { aggregate } = await deploy([fn('hello', 'old')], { seq: newest - 1 });
    // Superseded is not a failure: commit statuses have no cancelled state, so success saying so.
    assert.equal(aggregate.state, 'success');
    assert.match(aggregate.description!, /not deployed: superseded by|a newer commit is already deployed/);
    assert.equal((await call('hello')).body?.version, 'v2');
  });

  test('a function that never answers fails with a readiness timeout; the others go live', async () => {
    const unready = await fixtureImage('unready');
    const { commit, aggregate } = await deploy([fn('hello', 'v2b'), fn('sleepy', 'v1', unready)]);
    assert.equal(aggregate.state, 'failure', aggregate.description);
    const sleepy = fake.statusesFor(commit, 'gitfaas/sleepy').at(-1)!;
    assert.equal(sleepy.state, 'failure');
    assert.match(sleepy.description!, /not answering after 8 s: calls through the gateway get 503/);
    assert.equal(sleepy.target_url, 'http://127.0.0.1:8081/logs/x');
    assert.equal((await call('hello')).body?.version, 'v2b');
  });

  test('a function that cannot be deployed fails with the reason and a log link', async () => {
    const missing = `127.0.0.1:5000/gitfaas-test/missing-${randomBytes(4).toString('hex')}:latest`;
    const { commit, aggregate } = await deploy([fn('hello', 'v3'), fn('broken', 'v1', missing)]);
    assert.equal(aggregate.state, 'failure');
    assert.match(aggregate.description!, /deploy failed for broken/);
    assert.equal(aggregate.target_url, 'http://127.0.0.1:8081/logs/x');
    const broken = fake.statusesFor(commit, 'gitfaas/broken').at(-1)!;
    assert.equal(broken.state, 'failure');
    assert.match(broken.description!, /deploy failed: /);
    assert.equal(fake.statusesFor(commit, 'gitfaas/hello').at(-1)!.state, 'success');
  });
});
