// Call activity shared between gateways, against the real Redis under a fresh key prefix.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { CallActivity } from './call-activity.js';
import { SharedActivity } from './shared-activity.js';
import { deleteKeys } from '../../../test/helpers/redis-keys.js';

const redis = new Redis({ lazyConnect: true });
const prefix = `zero-u-${randomBytes(4).toString('hex')}`;
const fail = (err: unknown) => assert.fail(err as Error);
after(async () => {
  await deleteKeys(redis, [`${prefix}:*`]);
  redis.disconnect();
});

test('each gateway sees the calls in flight and the latest start of the others, and its own from memory', async () => {
  let now = 1_000_000;
  const clock = () => now;
  const a = new SharedActivity(redis, prefix, new CallActivity(clock), 'a', fail, clock);
  const b = new SharedActivity(redis, prefix, new CallActivity(clock), 'b', fail, clock);
  await a.start();
  await b.start();
  try {
    assert.deepEqual(await a.others(), ['b']);
    assert.deepEqual(await b.others(), ['a']);
    // b looked first: a quiet function counts from b's first look; a's look does not publish.
    assert.deepEqual(await b.of('fn', ['a']), { inFlight: 0, lastStarted: 1_000_000 });
    now += 5_000;
    assert.deepEqual(await a.of('fn', ['b']), { inFlight: 0, lastStarted: 1_005_000 });
    // Two calls start on a; b learns of them only once a has published.
    a.local.started('fn');
    a.local.started('fn');
    assert.deepEqual(await b.of('fn', ['a']), { inFlight: 0, lastStarted: 1_000_000 });
    await a.flush();
    assert.deepEqual(await b.of('fn', ['a']), { inFlight: 2, lastStarted: 1_005_000 });
    // b's own call counts at once, from memory; an older start never replaces a newer one.
    now -= 1_000;
    b.local.started('fn');
    await b.flush();
    assert.deepEqual(await b.of('fn', ['a']), { inFlight: 3, lastStarted: 1_005_000 });
    assert.deepEqual(await a.of('fn', ['b']), { inFlight: 3, lastStarted: 1_005_000 });
    a.local.called('fn');
    a.local.called('fn');
    await a.flush();
    assert.deepEqual(await b.of('fn', ['a']), { inFlight: 1, lastStarted: 1_005_000 });
  } finally {
    await a.stop();
    await b.stop();
  }
});

test('a gateway that stops cleanly, or stops publishing, no longer counts', async () => {
  let now = 2_000_000;
  const clock = () => now;
  const a = new SharedActivity(redis, `${prefix}:2`, new CallActivity(clock), 'a', fail, clock);
  const b = new SharedActivity(redis, `${prefix}:2`, new CallActivity(clock), 'b', fail, clock);
  const c = new SharedActivity(redis, `${prefix}:2`, new CallActivity(clock), 'c', fail, clock);
  await Promise.all([a.start(), b.start(), c.start()]);
  try {
    b.local.started('fn');
    c.local.started('fn');
    await Promise.all([b.flush(), c.flush()]);
    assert.deepEqual((await a.others()).sort(), ['b', 'c']);
    assert.equal((await a.of('fn', await a.others())).inFlight, 2);
    await b.stop();
    assert.deepEqual(await a.others(), ['c']);
    assert.equal((await a.of('fn', await a.others())).inFlight, 1);
    // c goes silent (a crash): past the gateways' time to live it is not a gateway any more.
    now += 60_000;
    await a.flush();
    assert.deepEqual(await a.others(), []);
    assert.equal((await a.of('fn', [])).inFlight, 0);
  } finally {
    await a.stop();
    await c.stop();
  }
});
