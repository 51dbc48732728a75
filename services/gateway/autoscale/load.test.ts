import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CallLoad } from './load.js';

test('counts calls started and integrates calls in flight over time', () => {
  let now = 0;
  const load = new CallLoad(() => now);
  load.started('a.ns');
  now = 500;
  load.started('a.ns');
  now = 1000;
  load.called('a.ns');
  assert.equal(load.inflight('a.ns'), 1);
  now = 2000;
  // 1 call for 0-500, 2 for 500-1000, 1 for 1000-2000: 0.5 + 1 + 1 = 2.5 call-seconds.
  assert.deepEqual(load.take(), [{ fn: 'a.ns', started: 2, inflightSeconds: 2.5 }]);
  now = 3000;
  // Still one in flight: the next take carries it on, with no new start.
  assert.deepEqual(load.take(), [{ fn: 'a.ns', started: 0, inflightSeconds: 1 }]);
  load.called('a.ns');
  assert.deepEqual(load.take(), []);
  assert.equal(load.inflight('a.ns'), 0);
});

test('a call answered for an unknown function is ignored', () => {
  const load = new CallLoad(() => 0);
  load.called('x.ns');
  assert.deepEqual(load.take(), []);
});
