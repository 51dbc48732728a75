// The Kubernetes backend as backends.ts registers it: its config and how to start it.
import type { Backend } from '../backends.js';
import { kubeConfigFrom, loadKubernetesConfig, type KubernetesConfig } from './config.js';
import { KubernetesProvider } from './provider.js';

export const kubernetesBackend: Backend<KubernetesConfig> = {
  loadConfig: (env) => {
    const config = loadKubernetesConfig(env);
    // Fails now, naming GITFAAS_KUBECONFIG / GITFAAS_KUBE_CONTEXT, rather than at first use.
    kubeConfigFrom(config);
    return config;
  },
  create: (config, ctx) =>
    KubernetesProvider.start({
      log: ctx.log,
      kubeConfig: kubeConfigFrom(config),
      instance: ctx.instance,
      startTimeoutMs: ctx.startTimeoutMs,
      maxReplicas: ctx.maxReplicas,
      imagePullSecret: config.imagePullSecret,
    }),
};
