// §5 of issue 8: two repositories of the same owner with a function of the same name used to
// replace each other silently. The second repository's deploy of that name must fail with a
// status naming the repository that holds it, leave the live function alone, and still
// deploy its other functions; the owner moves the name explicitly (docs/gitops.md): remove it
// from the first repository's stack.yml, push, then push the second.
// The real deployer, gateway (Docker provider), Redis/BullMQ and the GitHub API stand-in.
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { DeployJob, type BuildJob, type BuiltFunction } from '../../shared/jobs.js';
import { ownerNamespace } from '../../shared/names.js';
import type { RunningService } from '../../shared/run-service.js';
import { seqKey } from '../../shared/supersede.js';
import { LABEL } from '../../services/deployer/deployment.js';
import type { FakeGitHub } from '../fakes/github-api.js';
import { startDeployerStack, type DeployerStack } from '../helpers/deployer-stack.js';
import type { TestGateway } from '../helpers/gateway.js';
import { waitFor } from '../helpers/wait.js';

const token = `ghp_${randomBytes(8).toString('hex')}`;
const prefix = `t-own-${randomBytes(4).toString('hex')}`;
const owner = `Own${randomBytes(3).toString('hex')}`;
const namespace = ownerNamespace('github', owner);
const first = { id: randomInt(1, 2 ** 30), name: 'first' };
const second = { id: first.id + 1, name: 'second' };
let gateway: TestGateway;
let fake: FakeGitHub;
let deployer: RunningService;
let redis: Redis;
let queue: Queue;
let image: string;
let seq = 0;

let stack: DeployerStack | undefined;
before(async () => {
  stack = await startDeployerStack({ prefix, token });
  ({ gateway, fake, deployer, redis, queue, image } = stack);
});

after(async () => {
  await stack?.stop();
});

const fn = (name: string, version: string): BuiltFunction =>
  ({ name, image, envVars: { VERSION: version }, labels: {}, annotations: {}, secrets: [] }) as BuiltFunction;

/** A push of `repo` deploying `functions`, as the builder enqueues it; resolves with its final aggregate status. */
async function push(repo: { id: number; name: string }, functions: BuiltFunction[]) {
  const commit = randomBytes(20).toString('hex');
  const build: BuildJob = {
    kind: 'push',
    deliveryId: randomBytes(8).toString('hex'),
    seq: ++seq,
    receivedAt: new Date().toISOString(),
    source: {
      scm: 'github', owner, repo: repo.name, fullName: `${owner}/${repo.name}`, repoId: repo.id,
      cloneUrl: `https://github.com/${owner}/${repo.name}.git`, private: false, sha: commit,
      branch: 'main', defaultBranch: 'main', namespace,
    },
  };
  await redis.set(seqKey(prefix, build.source), build.seq);
  await queue.add('deploy', DeployJob.parse({ build, functions, logUrl: 'http://127.0.0.1:8081/logs/x', stages: {} }), { jobId: `deploy-${commit}` });
  const aggregate = await waitFor(
    `the deploy of ${repo.name} to settle`,
    async () => fake.statusesFor(commit, 'gitfaas').find((s) => s.state === 'success' || s.state === 'failure'),
    60_000,
  );
  return { commit, aggregate };
}

const version = async (name: string) => {
  const res = await fetch(`${gateway.url}/function/${name}.${namespace}`);
  return res.status === 200 ? ((await res.json()) as { version: string }).version : `HTTP ${res.status}`;
};
const labels = async (name: string) => {
  const res = await fetch(`${gateway.url}/system/function/${name}?namespace=${namespace}`, { headers: { authorization: gateway.authHeader } });
  return ((await res.json()) as { labels: Record<string, string> }).labels;
};

test("a second repository cannot take a function name another repository holds; the owner moves it explicitly", async () => {
  const one = await push(first, [fn('shared', 'from-first')]);
  assert.equal(one.aggregate.state, 'success', one.aggregate.description);

  const two = await push(second, [fn('shared', 'from-second'), fn('mine', 'from-second')]);
  assert.equal(two.aggregate.state, 'failure');
  assert.match(two.aggregate.description!, new RegExp(`deploy failed for shared: the name "shared" is held by ${owner}/first`));
  const status = fake.statusesFor(two.commit, 'gitfaas/shared').at(-1)!;
  assert.equal(status.state, 'failure');
  assert.match(status.description!, new RegExp(`^deploy failed: the name "shared" is held by ${owner}/first \\(github\\)`));
  // The holder is untouched; the second repository's other function is live.
  assert.equal(await version('shared'), 'from-first');
  assert.equal((await labels('shared'))[LABEL.repoId], String(first.id));
  assert.equal(await version('mine'), 'from-second');

  // The documented move: drop it from the first repository, then push the second again.
  const dropped = await push(first, [fn('other', 'from-first')]);
  assert.equal(dropped.aggregate.state, 'success', dropped.aggregate.description);
  assert.match(dropped.aggregate.description!, /removed shared/);
  const moved = await push(second, [fn('shared', 'from-second'), fn('mine', 'from-second')]);
  assert.equal(moved.aggregate.state, 'success', moved.aggregate.description);
  assert.equal(await version('shared'), 'from-second');
  assert.equal((await labels('shared'))[LABEL.repo], 'second');
});
