// untilReady on the real change feed (providers/change-feed.ts), driven the way a backend
// drives it: the image condition (ready on the old image is not enough, a digest-pinned
// reference matches by digest), a caller hanging up stops the wait and unsubscribes, and
// the timeout says what was missing. The route over it is tested end to end in
// test/gateway/ready-route.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChangeFeed } from './providers/change-feed.js';
import { ProviderError, type Endpoint, type FunctionChange, type FunctionStatus } from './providers/provider.js';
import { parseReadyTimeout, untilReady } from './ready-routes.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;

function setup() {
  const ready = new Map<string, Endpoint[]>();
  const feed = new ChangeFeed((name, ns) => ready.get(`${ns}/${name}`), (err) => assert.fail(String(err)));
  let unsubscribed = 0;
  const provider = {
    endpoints: (name: string, ns: string) => ready.get(`${ns}/${name}`),
    onChange(listener: (c: FunctionChange) => void) {
      const off = feed.onChange(listener);
      return () => {
        unsubscribed++;
        off();
      };
    },
  };
  const status = (image: string): FunctionStatus => ({ name: 'f', namespace: 'n', image, invocationCount: 0, replicas: 1, availableReplicas: 0 });
  const one = [{ id: 'r1', url: 'http://127.0.0.1:1' }];
  return { ready, feed, provider, status, one, unsubscribed: () => unsubscribed };
}

test('ready on the old image is not enough; the update to the wanted image (matched by digest) settles it', async () => {
  const { ready, feed, provider, status, one, unsubscribed } = setup();
  ready.set('n/f', one);
  feed.observe('f', 'n', status('reg/f:old'));
  let settled = false;
  const waiting = untilReady(provider, 'f', 'n', { timeoutMs: 60_000, image: `reg/f:new@${DIGEST}` }).finally(() => (settled = true));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(settled, false, 'still waiting while the old image serves');
  feed.observe('f', 'n', status(`reg/f@${DIGEST}`));
  const got = await waiting;
  assert.equal(got.image, `reg/f@${DIGEST}`);
  assert.equal(got.availableReplicas, 1);
  assert.equal(unsubscribed(), 1);
});

test('a caller that hangs up rejects the wait with its reason and unsubscribes from the feed', async () => {
  const { ready, feed, provider, status, unsubscribed } = setup();
  ready.set('n/f', []);
  feed.observe('f', 'n', status('reg/f:1'));
  const abort = new AbortController();
  const waiting = untilReady(provider, 'f', 'n', { timeoutMs: 60_000, signal: abort.signal });
  abort.abort(new Error('client closed the connection'));
  await assert.rejects(waiting, /client closed the connection/);
  assert.equal(unsubscribed(), 1);
});

test('timeout names what is missing; unknown is not_found at once', async () => {
  const { ready, feed, provider, status, one } = setup();
  ready.set('n/f', []);
  feed.observe('f', 'n', status('reg/f:1'));
  await assert.rejects(untilReady(provider, 'f', 'n', { timeoutMs: 20 }), (err: unknown) => err instanceof ProviderError && err.code === 'timeout' && /it had no ready replica/.test(err.message));
  ready.set('n/f', one);
  feed.observe('f', 'n', status('reg/f:1'));
  await assert.rejects(untilReady(provider, 'f', 'n', { timeoutMs: 20, image: 'reg/f:2' }), /it still reports image reg\/f:1, not reg\/f:2/);
  await assert.rejects(untilReady(provider, 'g', 'n', { timeoutMs: 20 }), (err: unknown) => err instanceof ProviderError && err.code === 'not_found');
});

test('timeout values: durations with units, bare milliseconds, default, and bounds', () => {
  assert.equal(parseReadyTimeout(undefined), 60_000);
  assert.equal(parseReadyTimeout('250'), 250);
  assert.equal(parseReadyTimeout('30s'), 30_000);
  assert.equal(parseReadyTimeout('10m'), 600_000);
  for (const bad of ['0', '11m', '1h', '2.5s', 'soon']) assert.throws(() => parseReadyTimeout(bad), /timeout must be a duration above 0 and at most 10 minutes/);
});
