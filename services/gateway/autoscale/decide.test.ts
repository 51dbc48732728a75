import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SCALE_DEFAULTS, type ScalePolicy } from '../providers/policy.js';
import { decide, replicasFor, type DecideInput, type Need } from './decide.js';

const STABLE = 60_000;
const policy = (p: Partial<ScalePolicy> = {}): ScalePolicy => ({ ...SCALE_DEFAULTS, ...p });
const input = (i: Partial<DecideInput>): DecideInput => ({
  policy: policy(),
  limit: 20,
  limitName: 'GITFAAS_MAX_REPLICAS',
  desired: 1,
  ready: 1,
  panicLoad: 0,
  history: [],
  since: 0,
  now: 120_000,
  stableWindowMs: STABLE,
  ...i,
});

test('replicasFor: ceil(load / (target × proportion)), 0 for no load', () => {
  assert.equal(replicasFor(0, policy()), 0);
  assert.equal(replicasFor(1, policy()), 1);
  assert.equal(replicasFor(45, policy()), 1); // 50 × 0.9 = 45 per replica
  assert.equal(replicasFor(45.1, policy()), 2);
  assert.equal(replicasFor(200, policy({ target: 10, proportion: 1 })), 20);
  assert.equal(replicasFor(7, policy({ type: 'capacity', target: 2, proportion: 0.5 })), 7);
});

test('a burst scales up at once, to what the panic window needs', () => {
  const d = decide(input({ desired: 1, panicLoad: 130 }));
  assert.equal(d.replicas, 3);
  assert.match(d.reason, /load 130 rps needs 3 \(target 50 × 0.9\): scaling up from 1 to 3/);
});

test('scale-up is capped at max, then at the limit (quota), and the reason names the cap', () => {
  const byMax = decide(input({ policy: policy({ max: 4 }), panicLoad: 1000 }));
  assert.equal(byMax.replicas, 4);
  assert.match(byMax.reason, /capped at 4 \(com\.openfaas\.scale\.max\)/);
  const byQuota = decide(input({ policy: policy({ max: 10 }), limit: 3, limitName: 'the quota', panicLoad: 1000 }));
  assert.equal(byQuota.replicas, 3);
  assert.match(byQuota.reason, /capped at 3 \(the quota\)/);
});

test('a count above the limit comes down to it; one below min goes up to it', () => {
  assert.equal(decide(input({ desired: 8, limit: 5, panicLoad: 1000 })).replicas, 5);
  assert.equal(decide(input({ desired: 1, policy: policy({ min: 3 }) })).replicas, 3);
});

test('scale-down waits until the whole stable window needed fewer', () => {
  const history: Need[] = [
    { at: 70_000, replicas: 4 },
    { at: 100_000, replicas: 2 },
  ];
  // 4 was needed 50 s ago, within the 60 s window: held at 4.
  const held = decide(input({ desired: 4, panicLoad: 10, history }));
  assert.equal(held.replicas, 4);
  assert.equal(held.stableNeed, 4);
  // 15 s later the 4 has left the window: down to the most still needed (2), not to 1.
  const down = decide(input({ desired: 4, panicLoad: 10, history: held.history, now: 135_000 }));
  assert.equal(down.replicas, 2);
  assert.match(down.reason, /the last 60 s needed at most 2: scaling down from 4 to 2/);
});

test('no scale-down before a full stable window has been watched (a new decider knows no history)', () => {
  const d = decide(input({ desired: 5, panicLoad: 0, since: 100_000, now: 120_000 }));
  assert.equal(d.replicas, 5);
  assert.match(d.reason, /until a full stable window/);
  assert.equal(decide(input({ desired: 5, panicLoad: 0, since: 50_000, now: 120_000 })).replicas, 1);
});

test('never below 1 on its own, even with min 0: going to zero is the idler\'s job', () => {
  assert.equal(decide(input({ desired: 3, policy: policy({ min: 0, zero: true }), panicLoad: 0 })).replicas, 1);
});

test('a function at zero is left alone, even under load (the waker brings it back)', () => {
  const d = decide(input({ desired: 0, ready: 0, panicLoad: 500 }));
  assert.equal(d.replicas, 0);
  assert.match(d.reason, /left to the scale-to-zero waker/);
});

test('a function with no ready replica (starting or waking) is held at its desired count', () => {
  const d = decide(input({ desired: 2, ready: 0, panicLoad: 500 }));
  assert.equal(d.replicas, 2);
  assert.match(d.reason, /no ready replica yet/);
});

test('a replica count below desired while rolling is judged on desired, not on ready', () => {
  const d = decide(input({ desired: 3, ready: 1, panicLoad: 100 }));
  assert.equal(d.replicas, 3); // 100 rps needs 3: nothing to do although only 1 is ready
});

test('a min above the limit holds and says so', () => {
  const d = decide(input({ desired: 2, policy: policy({ min: 6 }), limit: 5, limitName: 'the quota', panicLoad: 0 }));
  assert.equal(d.replicas, 2);
  assert.match(d.reason, /min 6 is above the quota \(5\)/);
});

test('the history keeps only the stable window', () => {
  const history: Need[] = [{ at: 10_000, replicas: 9 }, { at: 90_000, replicas: 2 }];
  const d = decide(input({ desired: 2, panicLoad: 10, history }));
  assert.deepEqual(d.history.map((h) => h.at), [90_000, 120_000]);
});
