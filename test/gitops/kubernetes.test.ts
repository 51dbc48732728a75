// The GitOps flow end to end with GITFAAS_PROVIDER=kubernetes: signed push -> receiver ->
// builder (BuildKit, local registry) -> deployer -> gateway -> Kubernetes provider -> the
// Kubernetes API stand-in, whose pods run as real containers. The function answers through
// the gateway, the commit gets its statuses, and the cluster holds a faas-netes-shaped
// Deployment carrying the git metadata.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AppsV1Api } from '@kubernetes/client-node';
import { kubeConfigFrom, loadKubernetesConfig } from '../../services/gateway/providers/kubernetes/config.js';
import { startKubeApi } from '../fakes/kube-api.js';
import { nodeHandler, removeLocalImages, stackYml, startGitOpsStack, type GitOpsStack } from '../helpers/gitops-stack.js';
import { waitFor } from '../helpers/wait.js';

describe('GitOps onto Kubernetes, end to end', () => {
  let api: Awaited<ReturnType<typeof startKubeApi>>;
  let stack: GitOpsStack;

  before(async () => {
    api = await startKubeApi({});
    stack = await startGitOpsStack({ gatewayEnv: { GITFAAS_PROVIDER: 'kubernetes', GITFAAS_KUBECONFIG: api.kubeconfigPath } });
  });
  after(async () => {
    await stack?.stop();
    await api?.close();
    // The stand-in's pods used the built images until now: the stack's own cleanup left them.
    if (stack) await removeLocalImages([stack.namespace]);
  });

  test('a push builds, deploys onto the cluster, answers, and a second push rolls out with no failed call', async () => {
    const repo = await stack.newRepo('kfns');
    const sha = await repo.commit({ 'stack.yml': stackYml({ greet: { lang: 'node20', handler: './greet' } }), 'greet/handler.js': nodeHandler('hello k8s v1') });
    assert.equal((await repo.push(sha)).status, 202);
    const settled = await stack.settled(sha);
    assert.equal(settled.state, 'success', stack.github.statusesFor(sha).map((s) => `${s.context} ${s.state}: ${s.description}`).join('\n'));
    assert.deepEqual(await stack.call('greet'), { status: 200, text: 'hello k8s v1' });

    // The cluster holds the function, shaped as faas-netes shapes it, with the git metadata.
    const apps = kubeConfigFrom(loadKubernetesConfig({ GITFAAS_KUBECONFIG: api.kubeconfigPath })).makeApiClient(AppsV1Api);
    const dep = await apps.readNamespacedDeployment({ name: 'greet', namespace: stack.namespace });
    assert.deepEqual(dep.spec?.selector.matchLabels, { faas_function: 'greet' });
    assert.equal(dep.metadata?.labels?.['com.openfaas.cloud.git-sha'], sha);
    assert.equal(dep.spec?.template.spec?.containers[0].ports?.[0].name, 'http');

    const listed = await fetch(`${stack.gateway.url}/system/functions?namespace=${stack.namespace}`, { headers: { authorization: stack.gateway.authHeader } });
    assert.equal(listed.status, 200);
    const [greet] = (await listed.json()) as { name: string; labels: Record<string, string>; availableReplicas: number }[];
    assert.equal(greet.name, 'greet');
    assert.equal(greet.labels['com.openfaas.cloud.git-sha'], sha);
    assert.equal(greet.availableReplicas, 1);

    const sha2 = await repo.commit({ 'greet/handler.js': nodeHandler('hello k8s v2') });
    let stop = false;
    const failures: string[] = [];
    const load = (async () => {
      while (!stop) {
        const r = await stack.call('greet').catch((err: Error) => ({ status: 0, text: err.message }));
        if (r.status !== 200) failures.push(`${r.status} ${r.text}`);
      }
    })();
    try {
      assert.equal((await repo.push(sha2)).status, 202);
      assert.equal((await stack.settled(sha2)).state, 'success');
      await waitFor('the new code to answer', async () => (await stack.call('greet')).text === 'hello k8s v2', 60_000);
    } finally {
      stop = true;
      await load;
    }
    assert.deepEqual(failures, [], 'no call failed during the rolling update');
  });
});
