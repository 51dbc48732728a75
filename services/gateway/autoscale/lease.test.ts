// The lease and the shared load against the real Redis, under a fresh key prefix.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { Lease } from './lease.js';
import { CallLoad } from './load.js';
import { SharedLoad } from './shared-load.js';
import { waitFor } from '../../../test/helpers/wait.js';
import { deleteKeys } from '../../../test/helpers/redis-keys.js';

const redis = new Redis({ lazyConnect: true });
const prefix = `a10u-${randomBytes(4).toString('hex')}`;
after(async () => {
  await deleteKeys(redis, [`${prefix}:*`]);
  redis.disconnect();
});

test('one holder at a time; renewed by its holder; released or expired, another takes it', async () => {
  const key = `${prefix}:leader`;
  const a = new Lease(redis, key, 'a', 600);
  const b = new Lease(redis, key, 'b', 600);
  assert.equal(await a.hold(), true);
  assert.equal(await b.hold(), false);
  assert.equal(await a.hold(), true, 'renewed');
  assert.equal(await a.holder(), 'a');
  await a.release();
  assert.equal(await b.hold(), true);
  await b.release();
  // Released by someone not holding it: nothing happens.
  assert.equal(await a.hold(), true);
  await b.release();
  assert.equal(await a.holder(), 'a');
  // a stops renewing: the key expires and b takes over.
  await waitFor('the lease to expire', async () => (await b.hold()) || undefined, 5_000, 100);
  assert.equal(await a.hold(), false);
});

test('two gateways add their counts to the same seconds; the reader averages over the window', async () => {
  let now = 1_000_000_250; // a quarter second into second 1_000_000
  const clock = () => now;
  const loads = [new CallLoad(clock), new CallLoad(clock)];
  const shared = loads.map((l) => new SharedLoad(redis, prefix, l, 60_000, (err) => assert.fail(err as Error), clock));
  for (let i = 0; i < 30; i++) loads[0].started('f.ns');
  for (let i = 0; i < 10; i++) loads[1].started('f.ns');
  now += 500;
  for (let i = 0; i < 30; i++) loads[0].called('f.ns');
  await Promise.all(shared.map((s) => s.flush()));
  // 10 calls still in flight on the second gateway for 0.5 s: 5 call-seconds.
  now = 1_000_002_000; // two seconds later: seconds 1_000_000 and 1_000_001 are whole
  const window = await shared[0].read('f.ns', 2_000);
  assert.equal(window.rps, 20); // 40 calls over 2 s
  assert.equal(window.inflight, (30 * 0.5 + 10 * 0.5) / 2);
  const other = await shared[1].read('g.ns', 2_000);
  assert.deepEqual(other, { rps: 0, inflight: 0 });
});
