// The behaviour every Provider must show, as one suite each backend runs (docker/provider.test.ts;
// a Kubernetes provider would call it the same way). It talks only through provider.ts.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { waitFor } from '../../../test/helpers/wait.js';
import { ProviderError, type Endpoint, type FunctionChange, type Provider, type ProviderErrorCode } from './provider.js';

export interface ConformanceSetup {
  provider: Provider;
  /** An image answering HTTP on 8080 that prints a line when it starts. */
  image: string;
  /** A fresh namespace nobody else uses. */
  namespace: string;
  /** A second provider against the same backend, as another gateway replica would hold; closed by cleanup. */
  another(): Promise<Provider>;
  /** Makes one replica die as a crash would (the backend starts or replaces it again). */
  killReplica(endpoint: Endpoint): Promise<void>;
  cleanup(): Promise<void>;
}

const about = (name: string) => (c: FunctionChange) => ('function' in c ? c.function.name : c.name) === name;

async function rejectsWith(work: Promise<unknown>, code: ProviderErrorCode): Promise<void> {
  await assert.rejects(work, (err: unknown) => err instanceof ProviderError && err.code === code);
}

export function providerConformance(backend: string, setup: () => Promise<ConformanceSetup>): void {
  let s: ConformanceSetup;
  before(async () => {
    s = await setup();
  });
  after(() => s?.cleanup());

  test(`${backend}: deploy makes a ready function that get, list, namespaces and endpoints report`, async () => {
    const { provider, image, namespace } = s;
    assert.equal(provider.endpoints('conf', namespace), undefined);
    await provider.deploy({ service: 'conf', image, namespace, envVars: { A: '1' }, labels: { team: 'x' }, annotations: { note: 'y' } });
    const status = await provider.get('conf', namespace);
    assert.equal(status?.name, 'conf');
    assert.equal(status?.image, image);
    assert.equal(status?.replicas, 1);
    assert.equal(status?.availableReplicas, 1);
    assert.deepEqual(status?.envVars, { A: '1' });
    assert.deepEqual(status?.labels, { team: 'x' });
    assert.deepEqual(status?.annotations, { note: 'y' });
    assert.deepEqual((await provider.list(namespace)).map((f) => f.name), ['conf']);
    assert.ok((await provider.namespaces()).includes(namespace));
    const endpoints = provider.endpoints('conf', namespace);
    assert.equal(endpoints?.length, 1);
    assert.equal((await fetch(endpoints![0].url)).status, 200);
  });

  test(`${backend}: conflict, not_found and invalid are told apart`, async () => {
    const { provider, image, namespace } = s;
    await rejectsWith(provider.deploy({ service: 'conf', image, namespace }), 'conflict');
    await rejectsWith(provider.update({ service: 'ghost', image, namespace }), 'not_found');
    await rejectsWith(provider.remove('ghost', namespace), 'not_found');
    await rejectsWith(provider.scale('ghost', namespace, 1), 'not_found');
    await rejectsWith(provider.scale('conf', namespace, -1), 'invalid');
    await rejectsWith(provider.deploy({ service: 'nopull', image: '127.0.0.1:5000/gitfaas-test/absent:none', namespace }), 'image');
    assert.equal(await provider.get('nopull', namespace), undefined);
    assert.equal(await provider.get('ghost', namespace), undefined);
  });

  test(`${backend}: scale up, down and to zero; update keeps the replica count`, async () => {
    const { provider, image, namespace } = s;
    await provider.scale('conf', namespace, 2);
    assert.equal(provider.endpoints('conf', namespace)?.length, 2);
    await provider.update({ service: 'conf', image, namespace, envVars: { A: '2' } });
    const updated = await provider.get('conf', namespace);
    assert.equal(updated?.replicas, 2);
    assert.deepEqual(updated?.envVars, { A: '2' });
    assert.equal(provider.endpoints('conf', namespace)?.length, 2);
    await provider.scale('conf', namespace, 0);
    assert.deepEqual(provider.endpoints('conf', namespace), []);
    assert.equal((await provider.get('conf', namespace))?.replicas, 0);
    await provider.scale('conf', namespace, 1);
    assert.equal(provider.endpoints('conf', namespace)?.length, 1);
  });

  test(`${backend}: logs come from the replicas`, async () => {
    const { provider, namespace } = s;
    const abort = new AbortController();
    const lines = [];
    for await (const line of provider.logs({ name: 'conf', namespace, follow: false, tail: 5, signal: abort.signal })) lines.push(line);
    assert.ok(lines.length >= 1);
    assert.equal(lines[0].name, 'conf');
    assert.equal(lines[0].namespace, namespace);
  });

  test(`${backend}: secrets are created, listed without values, updated and removed`, async () => {
    const { provider, namespace } = s;
    await provider.createSecret({ name: 'k', namespace, value: 'v' });
    await rejectsWith(provider.createSecret({ name: 'k', namespace, value: 'v' }), 'conflict');
    assert.deepEqual(await provider.listSecrets(namespace), [{ name: 'k', namespace }]);
    await provider.updateSecret({ name: 'k', namespace, value: 'w' });
    await rejectsWith(provider.updateSecret({ name: 'nope', namespace, value: 'w' }), 'not_found');
    await provider.removeSecret('k', namespace);
    assert.deepEqual(await provider.listSecrets(namespace), []);
  });

  test(`${backend}: a secret is a read-only file at /var/openfaas/secrets/<name> in the replica, in no env var, and an update shows after a redeploy`, async () => {
    const { provider, image, namespace } = s;
    const first = `first-${randomBytes(6).toString('hex')}`;
    const second = `second-${randomBytes(6).toString('hex')}`;
    await provider.createSecret({ name: 'mounted', namespace, value: first });
    try {
      const deployment = { service: 'secretive', image, namespace, secrets: ['mounted'], envVars: { PLAIN: 'x' } };
      await provider.deploy(deployment);
      // What the echo function reads inside each ready replica (test/fixtures/functions/echo/server.js).
      const readAll = async () => {
        const endpoints = provider.endpoints('secretive', namespace) ?? [];
        assert.ok(endpoints.length > 0, 'secretive has a ready replica');
        return Promise.all(
          endpoints.map(async (e) => {
            const res = await fetch(`${e.url}/?secret=mounted`);
            assert.equal(res.status, 200, await res.clone().text());
            return (await res.json()) as { value: string; inEnv: boolean; writeError: string | null };
          }),
        );
      };
      for (const read of await readAll()) {
        assert.equal(read.value, first, read.value === undefined ? `the replica's echo has no ?secret: an older build of test/fixtures/functions/echo (${JSON.stringify(read)})` : undefined);
        assert.equal(read.inEnv, false, 'the value is in no environment variable of the replica');
        // EROFS, not EACCES: the mount itself refuses writes, whatever the file's owner and mode.
        assert.equal(read.writeError, 'EROFS');
      }
      const status = await provider.get('secretive', namespace);
      assert.deepEqual(status?.secrets, ['mounted']);
      assert.ok(!JSON.stringify(status).includes(first), 'the status never carries the value');
      await provider.updateSecret({ name: 'mounted', namespace, value: second });
      await provider.update(deployment);
      // A backend may swap the file in place or roll new replicas; either way every replica shows the new value soon.
      await waitFor('every replica to read the updated secret', async () => (await readAll()).every((r) => r.value === second && r.writeError === 'EROFS'), 60_000, 250);
    } finally {
      // Whatever failed above, the later cases find the namespace as they expect it.
      await provider.remove('secretive', namespace).catch(() => undefined);
      await provider.removeSecret('mounted', namespace).catch(() => undefined);
    }
  });

  test(`${backend}: the feed tells this and another gateway of added, changed, ready and removed, and replays to a late subscriber`, async () => {
    const { provider, image, namespace } = s;
    const other = await s.another();
    const here: FunctionChange[] = [];
    const there: FunctionChange[] = [];
    const offHere = provider.onChange((c) => about('feed')(c) && here.push(c));
    const offThere = other.onChange((c) => about('feed')(c) && there.push(c));
    await provider.deploy({ service: 'feed', image, namespace, annotations: { v: '1' } });
    // This gateway's own writes are in its feed by the time the call returns.
    assert.equal(here[0]?.kind, 'added');
    assert.ok(here.some((c) => c.kind === 'ready' && c.ready === 1));
    // The other gateway learns it from the backend's watch.
    await waitFor('the other gateway to see feed ready', async () => there.some((c) => c.kind === 'ready' && c.ready === 1), 60_000);
    assert.equal(there[0]?.kind, 'added');
    await provider.update({ service: 'feed', image, namespace, annotations: { v: '2' } });
    const changedV2 = (c: FunctionChange) => c.kind === 'changed' && c.function.annotations?.v === '2';
    assert.ok(here.some(changedV2));
    await waitFor('the other gateway to see the update', async () => there.some(changedV2), 60_000);
    const replay: FunctionChange[] = [];
    other.onChange((c) => about('feed')(c) && replay.push(c))();
    assert.equal(replay[0]?.kind, 'added');
    assert.equal(replay[0]?.kind === 'added' && replay[0].function.annotations?.v, '2');
    assert.deepEqual(replay[1], { kind: 'ready', name: 'feed', namespace, ready: 1 });
    await provider.remove('feed', namespace);
    assert.deepEqual(here.at(-1), { kind: 'removed', name: 'feed', namespace });
    await waitFor('the other gateway to see the removal', async () => there.at(-1)?.kind === 'removed', 60_000);
    offHere();
    offThere();
    const after = here.length;
    await provider.deploy({ service: 'feed', image, namespace });
    await provider.remove('feed', namespace);
    assert.equal(here.length, after, 'an unsubscribed listener hears nothing more');
  });

  test(`${backend}: waitUntilReady resolves at once, on scale-up (here and on another gateway), and rejects on timeout, abort, unknown and removal`, async () => {
    const { provider, image, namespace } = s;
    const other = await s.another();
    await provider.deploy({ service: 'wait', image, namespace });
    assert.equal((await provider.waitUntilReady('wait', namespace, { timeoutMs: 1000 })).length, 1);
    await rejectsWith(provider.waitUntilReady('ghost', namespace, { timeoutMs: 1000 }), 'not_found');
    await provider.scale('wait', namespace, 0);
    await rejectsWith(provider.waitUntilReady('wait', namespace, { timeoutMs: 200 }), 'timeout');
    const abort = new AbortController();
    const aborted = provider.waitUntilReady('wait', namespace, { timeoutMs: 60_000, signal: abort.signal });
    abort.abort(new Error('caller gone'));
    await assert.rejects(aborted, /caller gone/);
    await waitFor('the other gateway to see wait at zero', async () => other.endpoints('wait', namespace)?.length === 0, 60_000);
    const waitingHere = provider.waitUntilReady('wait', namespace, { timeoutMs: 60_000 });
    const waitingThere = other.waitUntilReady('wait', namespace, { timeoutMs: 60_000 });
    await provider.scale('wait', namespace, 1);
    assert.equal((await waitingHere).length, 1);
    assert.equal((await waitingThere).length, 1);
    await provider.scale('wait', namespace, 0);
    const removed = rejectsWith(provider.waitUntilReady('wait', namespace, { timeoutMs: 60_000 }), 'not_found');
    await provider.remove('wait', namespace);
    await removed;
  });

  test(`${backend}: a replica that dies leaves the endpoints, the feed says so, and it comes back`, async () => {
    const { provider, image, namespace } = s;
    await provider.deploy({ service: 'crash', image, namespace });
    const readies: number[] = [];
    const off = provider.onChange((c) => c.kind === 'ready' && c.name === 'crash' && readies.push(c.ready));
    await s.killReplica(provider.endpoints('crash', namespace)![0]);
    await waitFor('the dead replica to leave the endpoints', async () => readies.includes(0), 60_000);
    const back = await provider.waitUntilReady('crash', namespace, { timeoutMs: 60_000 });
    assert.equal(back.length, 1);
    assert.equal((await fetch(back[0].url)).status, 200);
    assert.equal(readies.at(-1), 1);
    off();
    await provider.remove('crash', namespace);
  });

  test(`${backend}: remove takes the function away`, async () => {
    const { provider, namespace } = s;
    await provider.remove('conf', namespace);
    assert.equal(await provider.get('conf', namespace), undefined);
    assert.equal(provider.endpoints('conf', namespace), undefined);
    assert.deepEqual(await provider.list(namespace), []);
  });
}
