// The autoscaler against real function containers, with its windows shortened by
// configuration: a burst adds replicas within the panic window, the stable window holds them
// until the load has been low for a whole window, min, max and the owner's quota hold, and no
// request fails meanwhile. Two gateways share one instance: load sent to one is seen by the
// other, and only one of them decides.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { startTestGateway, testInstance, type TestGateway } from '../helpers/gateway.js';
import { fixtureImage } from '../helpers/images.js';
import { deleteKeys } from '../helpers/redis-keys.js';
import { waitFor } from '../helpers/wait.js';
import { call, deployment } from './client.js';

const TICK_MS = 250;
const PANIC_MS = 2_000;
const STABLE_MS = 8_000;
const prefix = `a10t-${randomBytes(4).toString('hex')}`;
const env = {
  GITFAAS_AUTOSCALE_TICK_MS: String(TICK_MS),
  GITFAAS_AUTOSCALE_PANIC_WINDOW_MS: String(PANIC_MS),
  GITFAAS_AUTOSCALE_STABLE_WINDOW_MS: String(STABLE_MS),
  GITFAAS_QUEUE_PREFIX: prefix,
  GITFAAS_QUOTA_REPLICAS: '3',
};

let gw: TestGateway;
let image: string;
const redis = new Redis({ lazyConnect: true });

before(async () => {
  image = await fixtureImage('echo');
  gw = await startTestGateway({ env });
});
// Load and watchers a failed test left running: stopped here, or the file would hang until its timeout.
const openLoops: Array<{ stop(): Promise<void> }> = [];
after(async () => {
  await Promise.all(openLoops.map((r) => r.stop()));
  await gw?.stop();
  await deleteKeys(redis, [`${prefix}:*`]).catch(() => undefined);
  redis.disconnect();
});

/** Closed-loop clients calling `url` until stopped; every answer's status is counted. */
function load(url: string, clients: number, paceMs = 0) {
  let running = true;
  const codes = new Map<string, number>();
  const count = (key: string) => codes.set(key, (codes.get(key) ?? 0) + 1);
  const runs = Array.from({ length: clients }, async () => {
    while (running) {
      try {
        const res = await fetch(url);
        await res.arrayBuffer();
        count(String(res.status));
      } catch (err) {
        count(`error ${(err as Error).cause ?? (err as Error).message}`);
      }
      if (paceMs) await sleep(paceMs);
    }
  });
  const handle = {
    codes,
    total: () => [...codes.values()].reduce((a, b) => a + b, 0),
    failed: () => [...codes].filter(([code]) => code !== '200'),
    stop: async () => {
      running = false;
      await Promise.all(runs);
    },
  };
  openLoops.push(handle);
  return handle;
}

async function status(g: TestGateway, name: string, namespace = g.namespace) {
  const res = await call(g, 'GET', `/system/function/${name}?namespace=${namespace}`);
  assert.equal(res.status, 200, res.text);
  return res.json();
}

/** Samples the function's desired replicas until stopped: the counts it passed through. */
function watch(g: TestGateway, name: string, namespace = g.namespace) {
  const seen: { at: number; replicas: number; ready: number; decidedBy?: string }[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const s = await status(g, name, namespace).catch(() => undefined);
      if (s) seen.push({ at: Date.now(), replicas: s.replicas ?? 0, ready: s.availableReplicas, decidedBy: s.autoscaling?.decidedBy });
      await sleep(200);
    }
  })();
  const handle = {
    seen,
    stop: async () => {
      running = false;
      await done;
    },
  };
  openLoops.push(handle);
  return handle;
}

async function deploy(g: TestGateway, name: string, labels: Record<string, string>) {
  const res = await call(g, 'POST', '/system/functions', deployment(g, name, image, { labels }));
  assert.equal(res.status, 202, res.text);
}

test('a burst scales up within the panic window, capped at max; the stable window holds the replicas; no request fails', async () => {
  await deploy(gw, 'burst', { 'com.openfaas.scale.target': '5', 'com.openfaas.scale.target-proportion': '1', 'com.openfaas.scale.max': '4' });
  const url = `${gw.url}/function/burst.${gw.namespace}?sleep=20`;
  const watcher = watch(gw, 'burst');
  const started = Date.now();
  const heavy = load(url, 8);
  const up = await waitFor('burst to reach 4 ready replicas', async () => {
    const s = await status(gw, 'burst');
    return s.availableReplicas === 4 && s;
  }, 120_000, 200);
  // The first scale-up came from the panic window: long before a stable window had passed.
  const firstUp = up.autoscaling.lastScale && watcher.seen.find((s) => s.replicas > 1);
  assert.ok(firstUp, `no scale-up seen: ${JSON.stringify(up.autoscaling)}`);
  assert.ok(firstUp.at - started < STABLE_MS, `first scale-up after ${firstUp.at - started} ms`);
  assert.equal(up.autoscaling.type, 'rps');
  assert.equal(up.autoscaling.target, 5);
  assert.ok(up.autoscaling.load > 20, `load ${up.autoscaling.load} rps should need more than 4 replicas`);
  assert.match(up.autoscaling.reason, /capped at 4 \(com\.openfaas\.scale\.max\)/);
  await sleep(2 * PANIC_MS); // still under load: it must stay at max, never above
  await heavy.stop();

  // A light load (about 3 rps, one replica's worth) while it scales down.
  const light = load(url, 1, 300);
  const lowered = Date.now();
  await waitFor('burst to come back to 1 replica', async () => (await status(gw, 'burst')).replicas === 1, 120_000, 200);
  const down = await status(gw, 'burst');
  await light.stop();
  await watcher.stop();

  assert.ok(watcher.seen.every((s) => s.replicas <= 4), `above max: ${JSON.stringify(watcher.seen.filter((s) => s.replicas > 4))}`);
  // Held for the stable window after the load fell (less a panic window, which it averages over).
  const downAt = Date.parse(down.autoscaling.lastScale.at);
  assert.ok(downAt - lowered >= STABLE_MS - PANIC_MS, `scaled down ${downAt - lowered} ms after the load fell`);
  assert.match(down.autoscaling.lastScale.reason, /needed at most 1: scaling down from \d to 1/);
  assert.deepEqual(heavy.failed(), [], `failed under the burst (of ${heavy.total()})`);
  assert.deepEqual(light.failed(), [], `failed while scaling down (of ${light.total()})`);
  assert.ok(heavy.total() > 100 && light.total() > 5);
});

test('min holds and zero=false never reaches zero with no load; a count above max comes back to max', async () => {
  await deploy(gw, 'floor', { 'com.openfaas.scale.min': '2', 'com.openfaas.scale.max': '3' });
  await deploy(gw, 'lonely', { 'com.openfaas.scale.zero': 'false' });
  const floor = watch(gw, 'floor');
  const lonely = watch(gw, 'lonely');
  await waitFor('floor to have 2 ready replicas', async () => (await status(gw, 'floor')).availableReplicas === 2, 60_000, 200);
  // Scaled by hand above max: the autoscaler brings it back to max, not lower (min 2 < max 3).
  assert.equal((await call(gw, 'POST', `/system/scale-function/floor?namespace=${gw.namespace}`, { serviceName: 'floor', replicas: 5 })).status, 202);
  // The engine adds the containers one by one: a tick may see 4 of the 5 and act on that count.
  const back = await waitFor('floor to come back to max 3', async () => {
    const s = await status(gw, 'floor');
    return s.replicas === 3 && /is above the limit 3/.test(s.autoscaling?.lastScale?.reason ?? '') && s;
  }, 60_000, 200);
  assert.match(back.autoscaling.lastScale.reason, /[45] is above the limit 3 \(com\.openfaas\.scale\.max\)/);
  // Two stable windows with no call: floor settles at min 2, lonely stays at 1.
  await waitFor('floor to settle at min 2', async () => (await status(gw, 'floor')).replicas === 2, 60_000, 200);
  await sleep(2 * STABLE_MS);
  await floor.stop();
  await lonely.stop();
  const last = await status(gw, 'floor');
  assert.equal(last.replicas, 2);
  assert.match(last.autoscaling.reason, /kept at min 2|holding 2/);
  assert.ok(lonely.seen.length > 10);
  assert.ok(lonely.seen.every((s) => s.replicas === 1), `lonely left 1: ${JSON.stringify(lonely.seen.filter((s) => s.replicas !== 1))}`);
  const fromFloorDown = floor.seen.filter((s) => s.at > Date.now() - 2 * STABLE_MS);
  assert.ok(fromFloorDown.every((s) => s.replicas === 2), 'floor went below min');
});

test("an owner's function never exceeds the replica quota (GITFAAS_QUOTA_REPLICAS), whatever its max", async () => {
  await deploy(gw, 'owned', { 'com.openfaas.scale.target': '1', 'com.openfaas.scale.target-proportion': '1', 'com.openfaas.scale.max': '10', 'com.openfaas.cloud.git-owner': 'alice' });
  const watcher = watch(gw, 'owned');
  const heavy = load(`${gw.url}/function/owned.${gw.namespace}?sleep=20`, 6);
  // The decision that first reaches 3 may have seen only the load's first few calls (its window
  // is the whole seconds before it: 6 calls there read as 3 rps, which needs exactly 3); the
  // ones after it see the whole load and say it is capped.
  const capped = await waitFor('owned to reach the quota of 3, capped', async () => {
    const s = await status(gw, 'owned');
    return s.replicas === 3 && /capped at 3/.test(s.autoscaling?.reason ?? '') && s;
  }, 120_000, 200);
  await sleep(3 * PANIC_MS);
  await heavy.stop();
  await watcher.stop();
  assert.ok(watcher.seen.every((s) => s.replicas <= 3), `above the quota: ${JSON.stringify(watcher.seen.filter((s) => s.replicas > 3))}`);
  assert.equal(capped.autoscaling.limit, 3);
  assert.ok(capped.autoscaling.load > 3, `load ${capped.autoscaling.load} rps should need more than the quota`);
  assert.match(capped.autoscaling.reason, /capped at 3 \(the quota replicasPerFunction \(GITFAAS_QUOTA_REPLICAS\)\)/);
  assert.deepEqual(heavy.failed(), []);
});

test('two gateways: load sent only to the one that does not decide scales the function; one decider; the other takes over when it stops', async () => {
  const instance = testInstance();
  const pair = { ...env, GITFAAS_INSTANCE: instance };
  const leaderKey = `${prefix}:autoscale:${instance}:leader`;
  // a takes the lease before b exists; b deploys the function, so stopping a leaves it running.
  const a = await startTestGateway({ env: pair });
  let b: TestGateway | undefined;
  try {
    const first = await waitFor('a to take the lease', async () => (await redis.get(leaderKey)) ?? undefined, 30_000, 100);
    b = await startTestGateway({ env: pair });
    await deploy(b, 'shared', { 'com.openfaas.scale.target': '5', 'com.openfaas.scale.target-proportion': '1', 'com.openfaas.scale.max': '3' });
    const watcher = watch(a, 'shared', b.namespace);
    const heavy = load(`${b.url}/function/shared.${b.namespace}?sleep=20`, 6);
    const up = await waitFor('shared to scale up on load sent through b', async () => {
      const s = await status(b!, 'shared');
      return s.replicas >= 2 && s;
    }, 120_000, 200);
    await heavy.stop();
    await watcher.stop();
    assert.equal(up.autoscaling.decidedBy, first);
    assert.ok(up.autoscaling.load > 5, `a saw ${up.autoscaling.load} rps from b`);
    // a (the decider) and b show the same decision, from Redis; no sample names another decider.
    assert.equal((await status(a, 'shared', b.namespace)).autoscaling.decidedBy, first);
    const deciders = new Set(watcher.seen.map((s) => s.decidedBy).filter((d) => d !== undefined));
    assert.deepEqual([...deciders], [first]);
    assert.deepEqual(heavy.failed(), []);

    await a.stop();
    const other = b;
    const next = await waitFor('b to take over', async () => {
      const by = (await status(other, 'shared')).autoscaling?.decidedBy;
      return by !== undefined && by !== first && by;
    }, 30_000, 200);
    assert.equal(await redis.get(leaderKey), next);
  } finally {
    await a.stop();
    await b?.stop();
  }
});
