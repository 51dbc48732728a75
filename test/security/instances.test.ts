// §5 of issue 8: two gitfaas instances on one Redis (different GITFAAS_QUEUE_PREFIX) used to
// share the build sequence counters and build logs (hard-coded "gitfaas:" keys), so one
// instance's push superseded the other's build of the same repository. Each instance's
// receiver path (BuildEnqueuer), builder/deployer checks and build logs run here against the
// real Redis, and every key they write must sit under its own instance's prefix.
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { BuildLog, buildLogExists, readBuildLog } from '../../shared/build-logs.js';
import type { SourceRef } from '../../shared/jobs.js';
import { claimDeploy, isSuperseded } from '../../shared/supersede.js';
import { BuildEnqueuer } from '../../services/webhooks/enqueue.js';
import { deleteKeys } from '../helpers/redis-keys.js';

const run = randomBytes(4).toString('hex');
const prefixes = [`t-inst-a-${run}`, `t-inst-b-${run}`];
const redis = new Redis('redis://127.0.0.1:6379');
const instances = prefixes.map((prefix) => new BuildEnqueuer({ redisUrl: 'redis://127.0.0.1:6379', prefix }));
const repoId = randomInt(1_000_000_000, 2_000_000_000);

before(async () => {
  // The receiver's enqueuer has no offline queue: wait until it is connected, as the service does.
  for (const i of instances) assert.equal(await i.connected(5000), true, 'Redis is reachable');
});

after(async () => {
  for (const i of instances) await i.close();
  await deleteKeys(redis, prefixes.map((p) => `${p}:*`));
  await deleteKeys(redis, [`gitfaas:*${repoId}*`]);
  redis.disconnect();
});

const source = (sha: string): SourceRef => ({
  scm: 'github',
  owner: 'alice',
  repo: 'fns',
  fullName: 'alice/fns',
  repoId,
  cloneUrl: 'https://github.com/alice/fns.git',
  private: false,
  sha: sha.repeat(40).slice(0, 40),
  branch: 'main',
  defaultBranch: 'main',
  namespace: 'gh-alice',
});

test('two instances on one Redis neither share sequence numbers nor supersede each other', async () => {
  const [a, b] = instances;
  const [pa, pb] = prefixes;
  const first = await a.enqueue('push', source('a'), `d-${run}-1`);
  // The same repository and branch pushed to the other instance, later and newer.
  const other = await b.enqueue('push', source('b'), `d-${run}-2`);
  assert.equal(first.seq, 1);
  assert.equal(other.seq, 1, 'instance B numbers its own events from 1');
  assert.equal(await isSuperseded(redis, pa, { source: source('a'), seq: first.seq }), undefined, "B's push does not supersede A's build");
  assert.equal(await claimDeploy(redis, pb, { source: source('b'), seq: other.seq }), true);
  assert.equal(await claimDeploy(redis, pa, { source: source('a'), seq: first.seq }), true, "A may deploy after B's deploy");
  // Within one instance, newest commit still wins.
  const newer = await a.enqueue('push', source('c'), `d-${run}-3`);
  assert.equal(newer.seq, 2);
  assert.deepEqual(await isSuperseded(redis, pa, { source: source('a'), seq: first.seq }), { seq: 2, sha: source('c').sha });
  assert.equal(await isSuperseded(redis, pb, { source: source('b'), seq: other.seq }), undefined);
});

test("an instance's build logs are its own", async () => {
  const [pa, pb] = prefixes;
  const log = new BuildLog(redis, pa, 60_000);
  log.line('secret-ish build output of instance A');
  await log.end('done');
  assert.equal(await buildLogExists(redis, pa, log.token), true);
  assert.equal(await buildLogExists(redis, pb, log.token), false, 'B does not serve A\'s log');
  assert.deepEqual((await readBuildLog(redis, pb, log.token)).lines, []);
  assert.deepEqual((await readBuildLog(redis, pa, log.token)).lines, ['secret-ish build output of instance A', 'done']);
});

test('every key the instances wrote sits under its own prefix', async () => {
  const keys: string[] = [];
  for await (const batch of redis.scanStream({ match: `*${repoId}*`, count: 1000 })) keys.push(...(batch as string[]));
  assert.ok(keys.length >= 2, `the sequence keys were found: ${keys.join(', ')}`);
  const outside = keys.filter((k) => !prefixes.some((p) => k.startsWith(`${p}:`)));
  assert.deepEqual(outside, [], 'no key outside the instance prefixes');
});
