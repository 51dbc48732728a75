// The Kubernetes provider through the shared conformance suite, against the Kubernetes API
// stand-in (test/fakes/kube-api.ts): the real client, pods as real containers on the Docker
// engine, EndpointSlices at their published 127.0.0.1 ports.
import { randomBytes } from 'node:crypto';
import { dockerEngine } from '../../../../shared/docker-engine.js';
import { silentLogger } from '../../../../shared/logger.js';
import { startKubeApi } from '../../../../test/fakes/kube-api.js';
import { fixtureImage } from '../../../../test/helpers/images.js';
import { providerConformance } from '../conformance.js';
import { kubeConfigFrom, loadKubernetesConfig } from './config.js';
import { KubernetesProvider } from './provider.js';

providerConformance('kubernetes', async () => {
  const api = await startKubeApi({});
  const namespace = `t-${randomBytes(5).toString('hex')}`;
  const options = {
    log: silentLogger(),
    kubeConfig: kubeConfigFrom(loadKubernetesConfig({ GITFAAS_KUBECONFIG: api.kubeconfigPath })),
    instance: `test-${process.pid}-${randomBytes(4).toString('hex')}`,
    startTimeoutMs: 60_000,
    maxReplicas: 5,
  };
  const provider = await KubernetesProvider.start(options).catch(async (err: unknown) => {
    await api.close();
    throw err;
  });
  const others: KubernetesProvider[] = [];
  return {
    provider,
    image: await fixtureImage('echo'),
    namespace,
    async another() {
      const other = await KubernetesProvider.start(options);
      others.push(other);
      return other;
    },
    async killReplica(endpoint) {
      // The pod's container dies as a crash would; the stand-in's kubelet restarts it.
      const id = api.containerId(namespace, endpoint.id);
      if (!id) throw new Error(`no container runs pod ${endpoint.id}`);
      await dockerEngine().getContainer(id).kill();
    },
    async cleanup() {
      for (const fn of await provider.list(namespace).catch(() => [])) await provider.remove(fn.name, namespace).catch(() => undefined);
      for (const other of others) await other.close();
      await provider.close();
      await api.close();
    },
  };
});
