// gitfaas deploys only into namespaces it manages: it makes an owner's namespace (labelled)
// on first use, and refuses kube-system and any namespace it did not make.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { CoreV1Api } from '@kubernetes/client-node';
import { silentLogger } from '../../../../shared/logger.js';
import { startKubeApi, type KubeApi } from '../../../../test/fakes/kube-api.js';
import { fixtureImage } from '../../../../test/helpers/images.js';
import { ProviderError } from '../provider.js';
import { kubeConfigFrom, loadKubernetesConfig } from './config.js';
import { KubernetesProvider } from './provider.js';

let api: KubeApi;
let provider: KubernetesProvider;
let core: CoreV1Api;

before(async () => {
  api = await startKubeApi({});
  const kubeConfig = kubeConfigFrom(loadKubernetesConfig({ GITFAAS_KUBECONFIG: api.kubeconfigPath }));
  core = kubeConfig.makeApiClient(CoreV1Api);
  provider = await KubernetesProvider.start({ log: silentLogger(), kubeConfig, instance: `test-${process.pid}-${randomBytes(4).toString('hex')}`, startTimeoutMs: 60_000, maxReplicas: 5 });
});
after(async () => {
  await provider?.close();
  await api?.close();
});

const invalid = (pattern: RegExp) => (err: unknown) => err instanceof ProviderError && err.code === 'invalid' && pattern.test(err.message);

test('kube-system and a namespace gitfaas did not make are refused; nothing is created there', async () => {
  const image = await fixtureImage('echo');
  await assert.rejects(provider.deploy({ service: 'x', image, namespace: 'kube-system' }), invalid(/"kube-system" belongs to Kubernetes itself/));
  await assert.rejects(provider.createSecret({ name: 's', namespace: 'kube-system', value: 'v' }), invalid(/kube-system/));
  const foreign = `foreign-${randomBytes(3).toString('hex')}`;
  await core.createNamespace({ body: { metadata: { name: foreign } } });
  await assert.rejects(provider.deploy({ service: 'x', image, namespace: foreign }), invalid(/not managed by gitfaas/));
  await assert.rejects(provider.createSecret({ name: 's', namespace: foreign, value: 'v' }), invalid(/not managed by gitfaas/));
  assert.equal((await core.listNamespacedSecret({ namespace: foreign })).items.length, 0);
  assert.ok(!(await provider.namespaces()).includes(foreign));
});

test('a new owner namespace is made, labelled, on first use, and listed', async () => {
  const mine = `gh-${randomBytes(4).toString('hex')}`;
  await provider.createSecret({ name: 'k', namespace: mine, value: 'v' });
  const ns = await core.readNamespace({ name: mine });
  assert.equal(ns.metadata?.labels?.['app.kubernetes.io/managed-by'], 'gitfaas');
  assert.ok((await provider.namespaces()).includes(mine));
  // The value went into the Secret under its own name (the projected file's name), never back out.
  const secret = await core.readNamespacedSecret({ name: 'k', namespace: mine });
  assert.equal(Buffer.from(secret.data!.k, 'base64').toString(), 'v');
  assert.deepEqual(await provider.listSecrets(mine), [{ name: 'k', namespace: mine }]);
});
