import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProviderError } from './provider.js';
import { memoryBytes, nanoCpus } from './quantity.js';

test('memory quantities in Kubernetes notation', () => {
  assert.equal(memoryBytes('128Mi', 'm'), 128 * 2 ** 20);
  assert.equal(memoryBytes('1Gi', 'm'), 2 ** 30);
  assert.equal(memoryBytes('100M', 'm'), 100e6);
  assert.equal(memoryBytes('67108864', 'm'), 67108864);
  assert.throws(() => memoryBytes('lots', 'limits.memory'), (e: Error) => e instanceof ProviderError && e.code === 'invalid' && /limits.memory "lots"/.test(e.message));
  assert.throws(() => memoryBytes('1Mi', 'limits.memory'), /minimum/);
});

test('CPU quantities in Kubernetes notation', () => {
  assert.equal(nanoCpus('500m', 'c'), 5e8);
  assert.equal(nanoCpus('2', 'c'), 2e9);
  assert.equal(nanoCpus('0.25', 'c'), 2.5e8);
  assert.throws(() => nanoCpus('fast', 'limits.cpu'), /limits.cpu "fast"/);
  assert.throws(() => nanoCpus('0', 'limits.cpu'), /above 0/);
});
