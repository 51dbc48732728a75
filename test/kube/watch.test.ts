// Watches on the stand-in through the client's Watch and informer: synthetic ADDED for the
// current state, resuming from a resourceVersion replays only what came after, a revision
// older than the history kept ends with an ERROR event carrying a 410 Expired Status (and
// the informer re-lists), objects leaving a label selector arrive as DELETED, bookmarks.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { makeInformer, Watch, type V1Secret } from '@kubernetes/client-node';
import { startKubeApi, type KubeApi } from '../fakes/kube-api.js';
import { waitFor } from '../helpers/wait.js';
import { clientsFor, mergePatch, type Clients } from './client.js';

interface Seen {
  type: string;
  object: any;
}

describe('kube-api stand-in: watches', () => {
  let api: KubeApi;
  let c: Clients;
  const ns = 'watched';
  const path = `/api/v1/namespaces/${ns}/secrets`;
  const aborts: AbortController[] = [];

  const watch = async (params: Record<string, string | boolean>) => {
    const seen: Seen[] = [];
    const ended: { err?: unknown; done: boolean } = { done: false };
    const ctl = await new Watch(c.kc).watch(path, params, (type, object) => seen.push({ type, object }), (err) => Object.assign(ended, { err, done: true }));
    aborts.push(ctl);
    return { seen, ended };
  };
  const secret = (name: string, labels: Record<string, string> = {}): V1Secret => ({ metadata: { name, labels }, stringData: { k: name } });

  before(async () => {
    api = await startKubeApi({ historyLimit: 50, bookmarkIntervalMs: 200 });
    c = clientsFor(api);
    await c.core.createNamespace({ body: { metadata: { name: ns } } });
  });
  after(async () => {
    aborts.forEach((a) => a.abort());
    await api?.close();
  });

  test('without a resourceVersion: ADDED for what exists, then live changes', async () => {
    await c.core.createNamespacedSecret({ namespace: ns, body: secret('first') });
    const { seen } = await watch({});
    await waitFor('the synthetic ADDED', async () => seen.length === 1);
    assert.deepEqual([seen[0].type, seen[0].object.metadata.name], ['ADDED', 'first']);
    await c.core.patchNamespacedSecret({ name: 'first', namespace: ns, body: { metadata: { labels: { x: 'y' } } } }, mergePatch);
    await c.core.deleteNamespacedSecret({ name: 'first', namespace: ns });
    await waitFor('MODIFIED and DELETED', async () => seen.length === 3);
    assert.deepEqual(seen.map((s) => s.type), ['ADDED', 'MODIFIED', 'DELETED']);
  });

  test('resuming from a resourceVersion replays exactly what came after it', async () => {
    const list = await c.core.listNamespacedSecret({ namespace: ns });
    const rv = list.metadata!.resourceVersion!;
    await c.core.createNamespacedSecret({ namespace: ns, body: secret('a') });
    await c.core.createNamespacedSecret({ namespace: ns, body: secret('b') });
    const { seen } = await watch({ resourceVersion: rv });
    await waitFor('the two replayed events', async () => seen.length === 2);
    assert.deepEqual(seen.map((s) => `${s.type} ${s.object.metadata.name}`), ['ADDED a', 'ADDED b']);
    assert.ok(Number(seen[0].object.metadata.resourceVersion) > Number(rv));
  });

  test('a resourceVersion older than the history ends the watch with 410 Expired', async () => {
    const old = (await c.core.listNamespacedSecret({ namespace: ns })).metadata!.resourceVersion!;
    // A change after `old`, then a compaction: the history that would lead from `old` is gone.
    await c.core.createNamespacedSecret({ namespace: ns, body: secret('before-compaction') });
    api.compact();
    await c.core.createNamespacedSecret({ namespace: ns, body: secret('after-compaction') });
    const { seen, ended } = await watch({ resourceVersion: old });
    await waitFor('the watch to end', async () => ended.done);
    assert.equal(seen.length, 1);
    assert.equal(seen[0].type, 'ERROR');
    assert.equal(seen[0].object.code, 410);
    assert.equal(seen[0].object.reason, 'Expired');
    // A watch from the current revision is fine.
    const now = (await c.core.listNamespacedSecret({ namespace: ns })).metadata!.resourceVersion!;
    const fresh = await watch({ resourceVersion: now });
    await c.core.createNamespacedSecret({ namespace: ns, body: secret('later') });
    await waitFor('the live event', async () => fresh.seen.some((s) => s.object.metadata?.name === 'later'));
  });

  test('the history is bounded: more changes than historyLimit expire old revisions', async () => {
    const old = (await c.core.listNamespacedSecret({ namespace: ns })).metadata!.resourceVersion!;
    for (let i = 0; i < 60; i++) await c.core.patchNamespacedSecret({ name: 'later', namespace: ns, body: { metadata: { labels: { n: String(i) } } } }, mergePatch);
    const { seen } = await watch({ resourceVersion: old });
    await waitFor('the 410', async () => seen.length === 1);
    assert.equal(seen[0].object.code, 410);
  });

  test('label selectors: an object leaving the selector is DELETED, entering it ADDED', async () => {
    await c.core.createNamespacedSecret({ namespace: ns, body: secret('sel', { team: 'a' }) });
    const { seen } = await watch({ labelSelector: 'team=a' });
    await waitFor('the initial ADDED', async () => seen.some((s) => s.object.metadata?.name === 'sel'));
    const start = seen.length;
    await c.core.patchNamespacedSecret({ name: 'sel', namespace: ns, body: { metadata: { labels: { team: 'b' } } } }, mergePatch);
    await c.core.patchNamespacedSecret({ name: 'sel', namespace: ns, body: { metadata: { labels: { team: 'a' } } } }, mergePatch);
    await waitFor('two transitions', async () => seen.length === start + 2);
    assert.deepEqual(seen.slice(start).map((s) => s.type), ['DELETED', 'ADDED']);
  });

  test('bookmarks when allowed', async () => {
    const { seen } = await watch({ allowWatchBookmarks: true, resourceVersion: (await c.core.listNamespacedSecret({ namespace: ns })).metadata!.resourceVersion! });
    await waitFor('a BOOKMARK', async () => seen.some((s) => s.type === 'BOOKMARK'), 10_000);
    const mark = seen.find((s) => s.type === 'BOOKMARK')!;
    assert.match(mark.object.metadata.resourceVersion, /^\d+$/);
  });

  test('an informer lists, watches, and re-lists after the API server was down and compacted', async () => {
    const informer = makeInformer(c.kc, path, () => c.core.listNamespacedSecret({ namespace: ns }));
    const errors: unknown[] = [];
    let stopped = false;
    // The informer stops on an error; restarting it is the caller's job (as the provider does).
    informer.on('error', (err) => {
      errors.push(err);
      setTimeout(() => {
        if (!stopped) void informer.start().catch(() => undefined);
      }, 200);
    });
    await informer.start();
    try {
      await c.core.createNamespacedSecret({ namespace: ns, body: secret('inf-1') });
      await waitFor('the informer cache to hold inf-1', async () => informer.list(ns).some((s) => s.metadata?.name === 'inf-1'));
      await api.pause();
      await waitFor('the informer to see the outage', async () => errors.length > 0, 30_000);
      api.compact();
      await api.resume();
      await c.core.createNamespacedSecret({ namespace: ns, body: secret('inf-2') });
      await waitFor('the informer cache to hold inf-2 after the outage', async () => informer.list(ns).some((s) => s.metadata?.name === 'inf-2'), 30_000);
    } finally {
      stopped = true;
      await informer.stop();
    }
  });
});
