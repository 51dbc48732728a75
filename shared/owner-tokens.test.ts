// OwnerTokens against the real Redis under a fresh prefix: a made token verifies for its
// namespace only, is stored as a hash, is replaced by a new one, and is gone once revoked.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { deleteKeys } from '../test/helpers/redis-keys.js';
import { OwnerTokens } from './owner-tokens.js';

const redis = new Redis('redis://127.0.0.1:6379');
const prefix = `t-otok-${randomBytes(4).toString('hex')}`;
const tokens = new OwnerTokens(() => redis, prefix);
after(async () => {
  await deleteKeys(redis, [`${prefix}:*`]);
  redis.disconnect();
});

test('a token verifies for its namespace only, is kept hashed, replaced and revoked', async () => {
  assert.equal(await tokens.info('gh-alice'), undefined);
  assert.equal(await tokens.verify('gh-alice', 'gft_anything'), false, 'no token yet');
  const { token, info } = await tokens.create('gh-alice', 'admin', new Date('2026-12-01T00:00:00Z'));
  assert.deepEqual(info, { namespace: 'gh-alice', createdAt: '2026-12-01T00:00:00.000Z', createdBy: 'admin' });
  assert.deepEqual(await tokens.info('gh-alice'), info);
  assert.equal(await tokens.verify('gh-alice', token), true);
  assert.equal(await tokens.verify('gh-bob', token), false);
  assert.equal(await tokens.verify('gh-alice', token.slice(0, -1)), false);
  assert.equal(await tokens.verify('Not A Label', token), false);
  assert.ok(!(await redis.get(`${prefix}:owner-token:gh-alice`))!.includes(token));

  const next = await tokens.create('gh-alice', 'gh-alice');
  assert.equal(await tokens.verify('gh-alice', token), false, 'the old one is replaced');
  assert.equal(await tokens.verify('gh-alice', next.token), true);
  assert.equal(await tokens.revoke('gh-alice'), true);
  assert.equal(await tokens.verify('gh-alice', next.token), false);
  assert.equal(await tokens.revoke('gh-alice'), false);
  await assert.rejects(tokens.create('../x', 'admin'), /namespace "..\/x"/);
});
