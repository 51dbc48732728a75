import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDuration, parseScaleLabels, SCALE_DEFAULTS } from './policy.js';
import { ProviderError } from './provider.js';

const L = (labels: Record<string, string>) => Object.fromEntries(Object.entries(labels).map(([k, v]) => [`com.openfaas.scale.${k}`, v]));

test('no labels: OpenFaaS defaults', () => {
  assert.deepEqual(parseScaleLabels(undefined), SCALE_DEFAULTS);
  assert.deepEqual(parseScaleLabels({}), { min: 1, max: 20, target: 50, proportion: 0.9, type: 'rps', zero: false, zeroDurationMs: 900_000 });
});

test('every label read', () => {
  const p = parseScaleLabels(L({ min: '0', max: '4', target: '10', 'target-proportion': '0.5', type: 'capacity', zero: 'true', 'zero-duration': '1m30s' }));
  assert.deepEqual(p, { min: 0, max: 4, target: 10, proportion: 0.5, type: 'capacity', zero: true, zeroDurationMs: 90_000 });
});

test('the replica limit clamps max and refuses a min above it', () => {
  assert.equal(parseScaleLabels(L({ max: '50' }), 5).max, 5);
  assert.equal(parseScaleLabels({}, 5).max, 5);
  assert.throws(() => parseScaleLabels(L({ min: '6' }), 5), /scale\.min "6" must be at most 5/);
});

test('a min above the default max raises the default max', () => {
  assert.deepEqual([parseScaleLabels(L({ min: '25' })).min, parseScaleLabels(L({ min: '25' })).max], [25, 25]);
});

for (const [key, value, message] of [
  ['min', '-1', /scale\.min "-1" must be a whole number from 0/],
  ['min', '1.5', /scale\.min/],
  ['min', '', /scale\.min/],
  ['max', '0', /scale\.max "0"/],
  ['target', 'x', /scale\.target "x" must be a number above 0/],
  ['target', '0', /scale\.target/],
  ['target-proportion', '1.2', /target-proportion "1.2"/],
  ['type', 'memory', /scale\.type "memory" must be one of rps, capacity, cpu/],
  ['zero', 'yes', /scale\.zero "yes" must be true or false/],
  ['zero-duration', '15', /zero-duration "15" must be a duration/],
] as const) {
  test(`malformed ${key}=${JSON.stringify(value)} is invalid, naming the label`, () => {
    assert.throws(() => parseScaleLabels(L({ [key]: value })), (err: unknown) => err instanceof ProviderError && err.code === 'invalid' && message.test(err.message));
  });
}

test('max below min is invalid', () => {
  assert.throws(() => parseScaleLabels(L({ min: '3', max: '2' })), /scale\.max "2" must be at least com\.openfaas\.scale\.min \(3\)/);
});

test('durations', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('2s'), 2000);
  assert.equal(parseDuration('1h1m'), 3_660_000);
  assert.ok(Number.isNaN(parseDuration('')));
  assert.ok(Number.isNaN(parseDuration('5 m')));
});
