// Newest commit wins, against the real Redis: sequence numbers, the superseding sha, and
// the deploy claim that never lets an older commit replace a newer one.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import type { SourceRef } from '../../shared/jobs.js';
import { randomBytes, randomInt } from 'node:crypto';
import { claimDeploy, isSuperseded, nextSeq, seqKey, supersededText } from '../../shared/supersede.js';

let redis: Redis;
// A key prefix of this run's own (GITFAAS_QUEUE_PREFIX in the services).
const P = `t-seq-${randomBytes(4).toString('hex')}`;
// A repository id no other test uses, so the shared Redis keys are this run's own.
const repoId = randomInt(1_000_000_000, 2_000_000_000);
const source = (sha: string, extra: Partial<SourceRef> = {}): SourceRef => ({
  scm: 'github',
  owner: 'alice',
  repo: 'fns',
  fullName: 'alice/fns',
  repoId,
  cloneUrl: 'file:///nowhere',
  private: false,
  sha: sha.repeat(40).slice(0, 40),
  branch: 'main',
  defaultBranch: 'main',
  namespace: 'gh-alice',
  ...extra,
});

before(() => {
  redis = new Redis('redis://127.0.0.1:6379');
});
after(async () => {
  const keys = await redis.keys(`${P}:seq:github:${repoId}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

test('seqKey separates repositories, branches and pull requests', () => {
  assert.equal(seqKey(P, source('a')), `${P}:seq:github:${repoId}:main`);
  assert.equal(seqKey(P, source('a', { branch: 'dev' })), `${P}:seq:github:${repoId}:dev`);
  assert.equal(seqKey(P, source('a', { pullRequest: 7, branch: 'feature' })), `${P}:seq:github:${repoId}:pr:7`);
});

test('a job is superseded once a newer event of its branch is numbered, and names that commit', async () => {
  const first = await nextSeq(redis, P, source('a'));
  assert.equal(await isSuperseded(redis, P, { source: source('a'), seq: first }), undefined);
  const second = await nextSeq(redis, P, source('b'));
  assert.equal(second, first + 1);
  const by = await isSuperseded(redis, P, { source: source('a'), seq: first });
  assert.deepEqual(by, { seq: second, sha: 'b'.repeat(40) });
  assert.equal(supersededText(by!), 'superseded by bbbbbbb');
  assert.equal(await isSuperseded(redis, P, { source: source('b'), seq: second }), undefined);
  // Another branch and a pull request are numbered apart.
  await nextSeq(redis, P, source('c', { branch: 'dev' }));
  await nextSeq(redis, P, source('d', { pullRequest: 3, branch: 'x' }));
  assert.equal(await isSuperseded(redis, P, { source: source('b'), seq: second }), undefined);
});

test('without a recorded sha (a receiver that only INCRs) the text still says superseded', async () => {
  const key = seqKey(P, source('e', { branch: 'bare' }));
  await redis.incr(key);
  await redis.incr(key);
  const by = await isSuperseded(redis, P, { source: source('e', { branch: 'bare' }), seq: 1 });
  assert.deepEqual(by, { seq: 2, sha: undefined });
  assert.equal(supersededText(by!), 'superseded by a newer commit');
});

test('claimDeploy: an older commit never deploys after a newer one, also when racing', async () => {
  const s = source('f', { branch: 'claims' });
  assert.equal(await claimDeploy(redis, P, { source: s, seq: 5 }), true);
  assert.equal(await claimDeploy(redis, P, { source: s, seq: 4 }), false, 'older after newer');
  assert.equal(await claimDeploy(redis, P, { source: s, seq: 5 }), true, 'the same job again (a retry) may deploy');
  assert.equal(await claimDeploy(redis, P, { source: s, seq: 9 }), true);
  // Many claims at once, in shuffled order: whatever the order, no claim below a granted
  // higher one succeeds after it, and the highest always wins.
  const r = source('g', { branch: 'race' });
  const seqs = Array.from({ length: 40 }, (_, i) => i + 1).sort(() => Math.random() - 0.5);
  const granted: number[] = [];
  await Promise.all(
    seqs.map(async (seq) => {
      if (await claimDeploy(redis, P, { source: r, seq })) granted.push(seq);
    }),
  );
  for (let i = 1; i < granted.length; i++) assert.ok(granted[i] >= granted[i - 1], `granted in order: ${granted.join(',')}`);
  assert.equal(granted.at(-1), 40);
  assert.equal(await claimDeploy(redis, P, { source: r, seq: 39 }), false);
});
