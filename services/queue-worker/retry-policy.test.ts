import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDuration, parseRetryAfter, policyFor, retryDelayMs } from './retry-policy.js';

const defaults = { attempts: 5, codes: [408, 429, 500, 502, 503, 504], minWaitMs: 500, maxWaitMs: 30_000 };

test('parseDuration reads Go durations and bare seconds', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('5s'), 5000);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('2h'), 7_200_000);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('3'), 3000);
  assert.equal(parseDuration('soon'), undefined);
  assert.equal(parseDuration('5 s'), undefined);
  assert.equal(parseDuration(''), undefined);
});

test('annotations override the defaults; invalid ones are reported and ignored', () => {
  const { policy, problems } = policyFor(defaults, {
    'com.openfaas.retry.attempts': '10',
    'com.openfaas.retry.codes': '429, 503',
    'com.openfaas.retry.min_wait': '100ms',
    'com.openfaas.retry.max_wait': '2s',
  });
  assert.deepEqual(policy, { attempts: 10, codes: [429, 503], minWaitMs: 100, maxWaitMs: 2000 });
  assert.deepEqual(problems, []);

  const bad = policyFor(defaults, { 'com.openfaas.retry.attempts': 'many', 'com.openfaas.retry.codes': '5xx', 'com.openfaas.retry.max_wait': 'later' });
  assert.deepEqual(bad.policy, defaults);
  assert.equal(bad.problems.length, 3);
  assert.match(bad.problems[0], /com\.openfaas\.retry\.attempts="many"/);

  assert.deepEqual(policyFor(defaults, undefined).policy, defaults);
  // min_wait above max_wait lifts max_wait rather than inverting the range
  assert.equal(policyFor(defaults, { 'com.openfaas.retry.min_wait': '1m' }).policy.maxWaitMs, 60_000);
});

test('backoff doubles from min_wait, is capped at max_wait and jittered within [base/2, base]', () => {
  const p = { minWaitMs: 100, maxWaitMs: 1000 };
  assert.equal(retryDelayMs(p, 1, undefined, () => 0), 50);
  assert.equal(retryDelayMs(p, 1, undefined, () => 1), 100);
  assert.equal(retryDelayMs(p, 2, undefined, () => 1), 200);
  assert.equal(retryDelayMs(p, 3, undefined, () => 1), 400);
  assert.equal(retryDelayMs(p, 10, undefined, () => 1), 1000);
  assert.equal(retryDelayMs(p, 10, undefined, () => 0), 500);
  for (let i = 0; i < 100; i++) {
    const d = retryDelayMs(p, 2, undefined);
    assert.ok(d >= 100 && d <= 200, `delay ${d} outside [100, 200]`);
  }
});

test('Retry-After wins over the backoff, capped at max_wait', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('3', now), 3000);
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:02 GMT', now), 2000);
  assert.equal(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now), 0);
  assert.equal(parseRetryAfter('nope', now), undefined);
  assert.equal(parseRetryAfter(undefined, now), undefined);
  assert.equal(retryDelayMs({ minWaitMs: 100, maxWaitMs: 1000 }, 1, 700), 700);
  assert.equal(retryDelayMs({ minWaitMs: 100, maxWaitMs: 1000 }, 1, 60_000), 1000);
});
