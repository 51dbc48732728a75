// The change feed's own rules, driven the way a backend drives it (observe), without a
// backend: what counts as a change, listener isolation, and waiters on close.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChangeFeed } from './change-feed.js';
import { ProviderError, type Endpoint, type FunctionChange, type FunctionStatus } from './provider.js';

function setup() {
  const ready = new Map<string, Endpoint[]>();
  const errors: unknown[] = [];
  const feed = new ChangeFeed((name, ns) => ready.get(`${ns}/${name}`), (err) => errors.push(err));
  const status = (over: Partial<FunctionStatus> = {}): FunctionStatus => ({ name: 'f', namespace: 'n', image: 'i', invocationCount: 0, replicas: 1, availableReplicas: 0, ...over });
  return { ready, errors, feed, status };
}

test('only real changes are told: counters alone are not a change, ready counts are', () => {
  const { ready, feed, status } = setup();
  const seen: FunctionChange[] = [];
  feed.onChange((c) => seen.push(c));
  ready.set('n/f', []);
  feed.observe('f', 'n', status());
  feed.observe('f', 'n', status({ invocationCount: 5, availableReplicas: 0 }));
  ready.set('n/f', [{ id: 'a', url: 'http://127.0.0.1:1' }]);
  feed.observe('f', 'n', status({ availableReplicas: 1 }));
  feed.observe('f', 'n', status({ availableReplicas: 1, image: 'j' }));
  feed.observe('f', 'n', undefined);
  feed.observe('f', 'n', undefined);
  assert.deepEqual(
    seen.map((c) => c.kind),
    ['added', 'ready', 'changed', 'removed'],
  );
});

test('a listener that throws is reported and keeps no other listener from the change', () => {
  const { ready, errors, feed, status } = setup();
  const seen: string[] = [];
  feed.onChange(() => {
    throw new Error('listener bug');
  });
  feed.onChange((c) => seen.push(c.kind));
  ready.set('n/f', []);
  feed.observe('f', 'n', status());
  assert.deepEqual(seen, ['added']);
  assert.equal((errors[0] as Error).message, 'listener bug');
});

test('closing rejects every waiter with unavailable', async () => {
  const { ready, feed, status } = setup();
  ready.set('n/f', []);
  feed.observe('f', 'n', status());
  const waiting = feed.waitUntilReady('f', 'n', { timeoutMs: 60_000 });
  feed.close();
  await assert.rejects(waiting, (err: unknown) => err instanceof ProviderError && err.code === 'unavailable');
});
