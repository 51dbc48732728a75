// The build history store against the real Redis: records under the prefix, newest
// first per repository, updates that never resurrect an expired record, retention.
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { deleteKeys } from '../test/helpers/redis-keys.js';
import { waitFor } from '../test/helpers/wait.js';
import { BuildHistory, newBuildId } from './build-history.js';
import type { BuildJob } from './jobs.js';

const prefix = `t-hist-${randomBytes(4).toString('hex')}`;
let redis: Redis;

before(() => {
  redis = new Redis('redis://127.0.0.1:6379');
});
after(async () => {
  await deleteKeys(redis, [`${prefix}:*`]);
  redis.disconnect();
});

function job(repoId: number, sha: string, buildId = newBuildId()): BuildJob & { buildId: string } {
  return {
    kind: 'push',
    deliveryId: 'd1',
    seq: 1,
    receivedAt: new Date().toISOString(),
    buildId,
    pushedBy: 'alice',
    source: {
      scm: 'github', owner: 'Alice', repo: 'fns', fullName: 'Alice/fns', repoId, cloneUrl: 'https://example.invalid/Alice/fns.git',
      private: false, sha, branch: 'main', defaultBranch: 'main', namespace: 'gh-alice', installationId: 7,
    },
  };
}

test('a record moves through its states; the repository lists its builds newest first and is remembered', async () => {
  const history = new BuildHistory(redis, prefix);
  const repoId = randomInt(1, 2 ** 31);
  const a = job(repoId, 'a'.repeat(40), newBuildId(Date.now() - 1000));
  const b = job(repoId, 'b'.repeat(40));
  await history.create(a, 'http://127.0.0.1:8081/logs/x');
  await history.create(b, 'http://127.0.0.1:8081/logs/y');
  await history.setState(b.buildId, 'building');
  await history.setStages(b.buildId, { clone: 0.25, build: 3.5 });
  await history.setFunction(b.buildId, 'hello', { state: 'failed', detail: 'SyntaxError: missing )' });
  await history.setState(b.buildId, 'failed', 'hello: SyntaxError');

  const got = await history.get(b.buildId);
  assert.equal(got?.state, 'failed');
  assert.equal(got?.reason, 'hello: SyntaxError');
  assert.deepEqual(got?.stages, { clone: 0.25, build: 3.5 });
  assert.deepEqual(got?.functions, { hello: { state: 'failed', detail: 'SyntaxError: missing )' } });
  assert.equal(got?.pushedBy, 'alice');
  assert.ok(got?.startedAt && got.finishedAt);
  assert.deepEqual((await history.list({ repository: { scm: 'github', repoId } })).map((r) => r.id), [b.buildId, a.buildId]);
  const [known] = await history.findRepository('alice/FNS', 'github');
  assert.equal(known.repoId, repoId);
  assert.equal(known.installationId, 7);
  assert.equal(known.cloneUrl, 'https://example.invalid/Alice/fns.git');
  assert.ok((await redis.exists(`${prefix}:build:${b.buildId}`)) === 1, 'keys live under the queue prefix');
});

test('records expire after the retention time, and an update never recreates an expired one', async () => {
  const history = new BuildHistory(redis, prefix, 300);
  const j = job(randomInt(1, 2 ** 31), 'c'.repeat(40));
  await history.create(j, 'http://127.0.0.1:8081/logs/z');
  assert.ok(await history.get(j.buildId));
  await waitFor('the record to expire', async () => (await history.get(j.buildId)) === undefined, 5000, 50);
  await history.setState(j.buildId, 'success');
  assert.equal(await redis.exists(`${prefix}:build:${j.buildId}`), 0);
  assert.deepEqual(await history.list({ repository: j.source }), []);
});
