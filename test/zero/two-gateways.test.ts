// Two gateways in front of one Docker engine (one instance): calls through the gateway that
// does not decide keep the function up, because call activity is shared through Redis and
// one idler decides for both. Before it was shared, the deciding gateway saw the function
// quiet and took it to zero under the other's calls.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { deployAndWait, startTestGateway, testInstance, type TestGateway } from '../helpers/gateway.js';
import { fixtureImage } from '../helpers/images.js';
import { deleteKeys } from '../helpers/redis-keys.js';
import { waitFor } from '../helpers/wait.js';
import { call, invoke } from '../gateway/client.js';
import { replicas, waitForZero, zeroLabels } from './support.js';

const prefix = `zero2-${randomBytes(4).toString('hex')}`;
const instance = testInstance();
const env = { GITFAAS_ZERO_TICK_MS: '100', GITFAAS_QUEUE_PREFIX: prefix, GITFAAS_INSTANCE: instance, GITFAAS_AUTOSCALE: 'false' };
const leaseKey = `${prefix}:zero:${instance}:lease`;
const redis = new Redis({ lazyConnect: true });
let a: TestGateway;
let b: TestGateway;
let decider: string;

before(async () => {
  const image = await fixtureImage('echo');
  // a takes the lease before b exists: a decides, calls go through b.
  a = await startTestGateway({ env });
  decider = await waitFor('a to take the idler lease', async () => (await redis.get(leaseKey)) ?? undefined, 30_000, 50);
  b = await startTestGateway({ env });
  await deployAndWait(b, { service: 'busy', image, labels: zeroLabels('2s') });
});
after(async () => {
  await b?.stop();
  await a?.stop();
  await deleteKeys(redis, [`${prefix}:*`]).catch(() => undefined);
  redis.disconnect();
});

/** Desired replicas of busy, every 100 ms until `until` settles. */
async function watchWhile(until: Promise<unknown>): Promise<number[]> {
  let done = false;
  void until.finally(() => (done = true));
  const seen: number[] = [];
  while (!done) {
    seen.push(await replicas(b, 'busy'));
    await sleep(100);
  }
  return seen;
}

test('calls through the other gateway, a trickle for three zero-durations, keep the function up', async () => {
  const calls = (async () => {
    const statuses: number[] = [];
    const end = Date.now() + 6_000;
    while (Date.now() < end) {
      statuses.push((await invoke(b, `busy.${b.namespace}/`)).status);
      await sleep(250);
    }
    return statuses;
  })();
  const seen = await watchWhile(calls);
  assert.ok((await calls).every((s) => s === 200));
  assert.ok(seen.length >= 20, `looked ${seen.length} times`);
  assert.ok(seen.every((n) => n === 1), `went to zero under calls through b: ${seen.join(',')}`);
  assert.equal(await redis.get(leaseKey), decider, 'a decided throughout');
});

test('a call in flight on the other gateway keeps the function up; once it answers, it goes to zero', async () => {
  const slow = invoke(b, `busy.${b.namespace}/long?sleep=6000`);
  const seen = await watchWhile(slow);
  const answer = await slow;
  assert.equal(answer.status, 200, answer.text);
  assert.ok(seen.every((n) => n === 1), `went to zero under a call in flight on b: ${seen.join(',')}`);
  // a paused the replica; b learns it from Docker's events: at zero there too, no traffic to it.
  await waitForZero(b, 'busy');
  assert.equal(await redis.get(leaseKey), decider, 'a decided throughout');
});

test('woken through the gateway that did not take it to zero; the other sees it back', async () => {
  const woken = await invoke(b, `busy.${b.namespace}/again`);
  assert.equal(woken.status, 200, woken.text);
  assert.equal(woken.json().path, '/again');
  await waitFor('a to see busy back at one replica', async () => (await call(a, 'GET', `/system/function/busy?namespace=${b.namespace}`)).json().availableReplicas === 1, 30_000, 100);
});
