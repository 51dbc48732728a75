// The Kubernetes API stand-in's REST semantics, driven by the real @kubernetes/client-node:
// CRUD, AlreadyExists / NotFound / Conflict, 422 Invalid with field causes (schema and
// API-server rules), a Deployment's immutable selector, the three patch formats, the scale
// subresource, label selectors, authentication, and pause/resume.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startKubeApi, type KubeApi } from '../fakes/kube-api.js';
import { clientsFor, failure, mergePatch, strategicPatch, type Clients } from './client.js';

const deployment = (name: string, labels: Record<string, string> = { faas_function: name }) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, labels: { app: name } },
  spec: {
    replicas: 0,
    selector: { matchLabels: { faas_function: name } },
    template: { metadata: { labels }, spec: { containers: [{ name, image: '127.0.0.1:5000/none/never:1', ports: [{ containerPort: 8080, name: 'http' }] }] } },
  },
});

describe('kube-api stand-in: REST semantics', () => {
  let api: KubeApi;
  let c: Clients;
  const ns = 'rest';

  before(async () => {
    api = await startKubeApi();
    c = clientsFor(api);
    await c.core.createNamespace({ body: { metadata: { name: ns } } });
  });
  after(async () => {
    await api?.close();
  });

  test('namespaces: create, get with server metadata, list, AlreadyExists 409', async () => {
    const got = await c.core.readNamespace({ name: ns });
    assert.equal(got.metadata?.name, ns);
    assert.match(got.metadata?.uid ?? '', /^[0-9a-f-]{36}$/);
    assert.match(got.metadata?.resourceVersion ?? '', /^\d+$/);
    assert.equal(got.status?.phase, 'Active');
    const names = (await c.core.listNamespace()).items.map((n) => n.metadata?.name);
    assert.deepEqual(names.sort(), ['default', 'kube-public', 'kube-system', ns].sort());
    const dup = await failure(c.core.createNamespace({ body: { metadata: { name: ns } } }));
    assert.equal(dup.httpCode, 409);
    assert.equal(dup.reason, 'AlreadyExists');
    assert.equal(dup.message, `namespaces "${ns}" already exists`);
  });

  test('NotFound 404 for a missing object, and creating in a missing namespace names the namespace', async () => {
    const missing = await failure(c.apps.readNamespacedDeployment({ name: 'nope', namespace: ns }));
    assert.equal(missing.httpCode, 404);
    assert.equal(missing.reason, 'NotFound');
    assert.equal(missing.message, 'deployments.apps "nope" not found');
    const noNs = await failure(c.apps.createNamespacedDeployment({ namespace: 'absent', body: deployment('x') }));
    assert.equal(noNs.httpCode, 404);
    assert.equal(noNs.message, 'namespaces "absent" not found');
  });

  test('422 Invalid lists schema causes and name rules with their fields', async () => {
    const bad: any = deployment('Bad_Name');
    bad.spec.replicas = 'three';
    delete bad.spec.template.spec.containers[0].name;
    const err = await failure(c.apps.createNamespacedDeployment({ namespace: ns, body: bad }));
    assert.equal(err.httpCode, 422);
    assert.equal(err.reason, 'Invalid');
    const fields = (err.details?.causes ?? []).map((cause) => `${cause.reason} ${cause.field}`);
    assert.ok(fields.includes('FieldValueInvalid spec.replicas'), fields.join('; '));
    assert.ok(fields.includes('FieldValueRequired spec.template.spec.containers[0].name'), fields.join('; '));
    assert.ok(fields.includes('FieldValueInvalid metadata.name'), fields.join('; '));
    assert.match(err.message, /^Deployment\.apps "Bad_Name" is invalid: \[/);
    await failure(c.apps.readNamespacedDeployment({ name: 'Bad_Name', namespace: ns })).then((e) => assert.equal(e.httpCode, 404));
  });

  test('a selector that does not match the template labels is 422', async () => {
    const err = await failure(c.apps.createNamespacedDeployment({ namespace: ns, body: deployment('mismatch', { other: 'x' }) }));
    assert.equal(err.httpCode, 422);
    assert.deepEqual(err.details?.causes?.map((cause) => cause.field), ['spec.template.metadata.labels']);
    assert.match(err.message, /`selector` does not match template `labels`/);
  });

  test('replace: 409 Conflict on a stale resourceVersion, generation moves with the spec, the selector is immutable', async () => {
    const created = await c.apps.createNamespacedDeployment({ namespace: ns, body: deployment('fn') });
    assert.equal(created.metadata?.generation, 1);
    assert.equal(created.spec?.strategy?.type, 'RollingUpdate');
    // The deployment controller writes status after the create, so read the object fresh
    // first (and again on a conflict, as client-go's RetryOnConflict does).
    let changed: typeof created;
    let replaced: typeof created | undefined;
    for (let attempt = 0; !replaced; attempt++) {
      changed = await c.apps.readNamespacedDeployment({ name: 'fn', namespace: ns });
      changed.spec!.template.spec!.containers[0].env = [{ name: 'A', value: '1' }];
      try {
        replaced = await c.apps.replaceNamespacedDeployment({ name: 'fn', namespace: ns, body: changed });
      } catch (err: any) {
        if (err?.code !== 409 || attempt > 5) throw err;
      }
    }
    assert.equal(replaced.metadata?.generation, 2);
    assert.notEqual(replaced.metadata?.resourceVersion, created.metadata?.resourceVersion);
    changed = changed!;

    const stale = await failure(c.apps.replaceNamespacedDeployment({ name: 'fn', namespace: ns, body: changed }));
    assert.equal(stale.httpCode, 409);
    assert.equal(stale.reason, 'Conflict');
    assert.match(stale.message, /^Operation cannot be fulfilled on deployments\.apps "fn": the object has been modified/);

    const moved = structuredClone(replaced);
    moved.spec!.selector = { matchLabels: { faas_function: 'fn', extra: 'y' } };
    moved.spec!.template.metadata!.labels = { faas_function: 'fn', extra: 'y' };
    const immutable = await failure(c.apps.replaceNamespacedDeployment({ name: 'fn', namespace: ns, body: moved }));
    assert.equal(immutable.httpCode, 422);
    assert.deepEqual(immutable.details?.causes?.map((cause) => [cause.field, cause.message.endsWith('field is immutable')]), [['spec.selector', true]]);
  });

  test('patch: JSON patch (the default), merge patch, strategic merge by container name', async () => {
    await c.apps.patchNamespacedDeployment({ name: 'fn', namespace: ns, body: [{ op: 'replace', path: '/metadata/labels/app', value: 'patched' }] });
    assert.equal((await c.apps.readNamespacedDeployment({ name: 'fn', namespace: ns })).metadata?.labels?.app, 'patched');

    await c.apps.patchNamespacedDeployment({ name: 'fn', namespace: ns, body: { metadata: { annotations: { a: 'b' } } } }, mergePatch);
    const merged = await c.apps.readNamespacedDeployment({ name: 'fn', namespace: ns });
    assert.deepEqual(merged.metadata?.annotations, { a: 'b' });
    assert.equal(merged.metadata?.labels?.app, 'patched');

    await c.apps.patchNamespacedDeployment(
      { name: 'fn', namespace: ns, body: { spec: { template: { spec: { containers: [{ name: 'fn', image: '127.0.0.1:5000/none/never:2', env: [{ name: 'B', value: '2' }] }] } } } } },
      strategicPatch,
    );
    const strategic = await c.apps.readNamespacedDeployment({ name: 'fn', namespace: ns });
    const container = strategic.spec?.template.spec?.containers[0];
    assert.equal(container?.image, '127.0.0.1:5000/none/never:2');
    assert.deepEqual(container?.env?.map((e) => e.name), ['A', 'B']);
    assert.deepEqual(container?.ports?.map((p) => p.containerPort), [8080], 'fields the patch left out stay');

    const failedTest = await failure(c.apps.patchNamespacedDeployment({ name: 'fn', namespace: ns, body: [{ op: 'test', path: '/spec/replicas', value: 9 }] }));
    assert.equal(failedTest.httpCode, 422);
    const stale = await failure(c.apps.patchNamespacedDeployment({ name: 'fn', namespace: ns, body: { metadata: { resourceVersion: '1' } } }, mergePatch));
    assert.equal(stale.httpCode, 409);
  });

  test('scale subresource: read, replace (409 on stale), patch; negative replicas are 422', async () => {
    const scale = await c.apps.readNamespacedDeploymentScale({ name: 'fn', namespace: ns });
    assert.equal(scale.kind, 'Scale');
    assert.equal(scale.spec?.replicas, 0);
    assert.equal(scale.status?.selector, 'faas_function=fn');
    const after = await c.apps.replaceNamespacedDeploymentScale({ name: 'fn', namespace: ns, body: { ...scale, spec: { replicas: 0 } } });
    assert.equal(after.spec?.replicas, 0);
    await c.apps.patchNamespacedDeployment({ name: 'fn', namespace: ns, body: { metadata: { labels: { bump: '1' } } } }, mergePatch);
    const stale = await failure(c.apps.replaceNamespacedDeploymentScale({ name: 'fn', namespace: ns, body: { ...scale, spec: { replicas: 0 } } }));
    assert.equal(stale.httpCode, 409);
    const patched = await c.apps.patchNamespacedDeploymentScale({ name: 'fn', namespace: ns, body: { spec: { replicas: 0 } } }, mergePatch);
    assert.equal(patched.spec?.replicas, 0);
    const negative = await failure(c.apps.patchNamespacedDeploymentScale({ name: 'fn', namespace: ns, body: [{ op: 'replace', path: '/spec/replicas', value: -1 }] }));
    assert.equal(negative.httpCode, 422);
  });

  test('secrets: stringData folded into data, base64 checked, labels select, delete answers 404 after', async () => {
    await c.core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 's1', labels: { managed: 'yes' } }, stringData: { token: 'hunter2' } } });
    await c.core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 's2' }, data: { token: Buffer.from('x').toString('base64') } } });
    const s1 = await c.core.readNamespacedSecret({ name: 's1', namespace: ns });
    assert.equal(s1.type, 'Opaque');
    assert.equal(Buffer.from(s1.data!.token, 'base64').toString(), 'hunter2');
    assert.equal(s1.stringData, undefined);
    const selected = await c.core.listNamespacedSecret({ namespace: ns, labelSelector: 'managed=yes' });
    assert.deepEqual(selected.items.map((s) => s.metadata?.name), ['s1']);
    const notIn = await c.core.listNamespacedSecret({ namespace: ns, labelSelector: '!managed' });
    assert.deepEqual(notIn.items.map((s) => s.metadata?.name), ['s2']);
    const bad = await failure(c.core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 's3' }, data: { token: 'not base64!' } } }));
    assert.equal(bad.httpCode, 422);
    await c.core.deleteNamespacedSecret({ name: 's1', namespace: ns });
    assert.equal((await failure(c.core.readNamespacedSecret({ name: 's1', namespace: ns }))).httpCode, 404);
    assert.equal((await failure(c.core.deleteNamespacedSecret({ name: 's1', namespace: ns }))).httpCode, 404);
  });

  test('a wrong token is 401 Unauthorized', async () => {
    const res = await fetch(`${api.url}/api/v1/namespaces`, { headers: { authorization: 'Bearer wrong' } });
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as any).reason, 'Unauthorized');
  });

  test('pause refuses connections, resume serves again with the same state', async () => {
    await api.pause();
    await assert.rejects(c.core.readNamespace({ name: ns }), (err: any) => /ECONNREFUSED/.test(`${err?.message} ${err?.cause?.code ?? ''} ${err?.code ?? ''}`));
    await api.resume();
    assert.equal((await c.core.readNamespace({ name: ns })).metadata?.name, ns);
  });

  test('deleting a namespace takes what is in it', async () => {
    await c.core.createNamespace({ body: { metadata: { name: 'doomed' } } });
    await c.core.createNamespacedSecret({ namespace: 'doomed', body: { metadata: { name: 'inside' }, stringData: { a: 'b' } } });
    await c.core.deleteNamespace({ name: 'doomed' });
    assert.equal((await failure(c.core.readNamespacedSecret({ name: 'inside', namespace: 'doomed' }))).httpCode, 404);
    assert.equal((await failure(c.core.readNamespace({ name: 'doomed' }))).httpCode, 404);
  });
});
