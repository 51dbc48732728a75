// The behaviour every Provider must show, as one suite each backend runs (docker/provider.test.ts;
// a Kubernetes provider would call it the same way). It talks only through provider.ts.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ProviderError, type Provider, type ProviderErrorCode } from './provider.js';

export interface ConformanceSetup {
  provider: Provider;
  /** An image answering HTTP on 8080 that prints a line when it starts. */
  image: string;
  /** A fresh namespace nobody else uses. */
  namespace: string;
  cleanup(): Promise<void>;
}

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

  test(`${backend}: remove takes the function away`, async () => {
    const { provider, namespace } = s;
    await provider.remove('conf', namespace);
    assert.equal(await provider.get('conf', namespace), undefined);
    assert.equal(provider.endpoints('conf', namespace), undefined);
    assert.deepEqual(await provider.list(namespace), []);
  });
}
