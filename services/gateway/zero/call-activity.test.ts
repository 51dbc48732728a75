import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CallActivity } from './call-activity.js';

test('counts calls in flight from start to answer and keeps the last start', () => {
  let now = 1_000;
  const activity = new CallActivity(() => now);
  assert.deepEqual(activity.of('a.ns'), { inFlight: 0, lastStarted: 1_000, called: false }, 'a function never called is quiet from the first look');
  now = 2_000;
  activity.started('a.ns');
  activity.started('a.ns');
  now = 3_000;
  activity.called('a.ns');
  assert.deepEqual(activity.of('a.ns'), { inFlight: 1, lastStarted: 2_000, called: true }, 'one answered, one still in flight');
  activity.called('a.ns');
  activity.called('a.ns');
  assert.equal(activity.of('a.ns').inFlight, 0, 'never below zero');
  activity.forget('a.ns');
  assert.deepEqual(activity.of('a.ns'), { inFlight: 0, lastStarted: 3_000, called: false });
  assert.deepEqual([...activity.entries()].map(([fn]) => fn), ['a.ns']);
});
