// The Kubernetes backend's own variables (GITFAAS_PROVIDER=kubernetes): which cluster, which
// context, and the registry credentials functions pull with. Every mistake fails at start
// with a message naming the variable (see docs/configuration.md, "Kubernetes provider").
import { existsSync, readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { z } from 'zod';
import { ConfigError, parseEnv, withSecrets, type Env } from '../../../../shared/config.js';

/** Where a pod finds its service account (the in-cluster configuration). */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

const schema = z
  .object({
    GITFAAS_KUBECONFIG: z.string().min(1, 'expected the path of a kubeconfig file').optional(),
    GITFAAS_KUBE_CONTEXT: z.string().min(1, 'expected a context name from the kubeconfig').optional(),
    GITFAAS_KUBE_IMAGE_PULL_SECRET: z
      .string()
      .optional()
      .superRefine((value, ctx) => {
        if (value === undefined) return;
        try {
          const parsed = JSON.parse(value) as { auths?: unknown };
          if (typeof parsed !== 'object' || parsed === null || typeof parsed.auths !== 'object') throw new Error('no "auths" object');
        } catch {
          // The parser's message would quote part of the secret, so it is not repeated.
          ctx.addIssue({ code: 'custom', message: 'expected a Docker config JSON with an "auths" object, such as {"auths":{"registry.example.com":{"auth":"..."}}}' });
        }
      }),
    KUBERNETES_SERVICE_HOST: z.string().optional(),
  })
  .transform((env) => ({
    kubeconfig: env.GITFAAS_KUBECONFIG,
    context: env.GITFAAS_KUBE_CONTEXT,
    /** Docker config JSON, written to the Secret gitfaas-registry-credentials in every managed namespace. */
    imagePullSecret: env.GITFAAS_KUBE_IMAGE_PULL_SECRET,
    inCluster: env.KUBERNETES_SERVICE_HOST !== undefined && existsSync(`${SERVICE_ACCOUNT_DIR}/token`),
  }));

export type KubernetesConfig = z.output<typeof schema>;

export function loadKubernetesConfig(env: Env = process.env): KubernetesConfig {
  return parseEnv(schema, withSecrets(env, ['GITFAAS_KUBE_IMAGE_PULL_SECRET']));
}

/** The client configuration the settings describe; ConfigError naming the variable when they cannot work. */
export function kubeConfigFrom(config: KubernetesConfig): KubeConfig {
  const kc = new KubeConfig();
  if (config.kubeconfig) {
    let text: string;
    try {
      text = readFileSync(config.kubeconfig, 'utf8');
    } catch (err) {
      throw new ConfigError(`GITFAAS_KUBECONFIG: cannot read ${config.kubeconfig} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); point it at a readable kubeconfig file`, { cause: err });
    }
    try {
      kc.loadFromString(text);
    } catch (err) {
      throw new ConfigError(`GITFAAS_KUBECONFIG: ${config.kubeconfig} is not a valid kubeconfig (${(err as Error).message})`, { cause: err });
    }
  } else if (config.inCluster) {
    kc.loadFromCluster();
  } else {
    throw new ConfigError('GITFAAS_PROVIDER=kubernetes needs a cluster: set GITFAAS_KUBECONFIG to a kubeconfig file, or run the gateway inside a cluster (with a service account)');
  }
  if (config.context) {
    if (!kc.getContextObject(config.context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new ConfigError(`GITFAAS_KUBE_CONTEXT: no context "${config.context}" in the kubeconfig (it has: ${known.join(', ') || 'none'})`);
    }
    kc.setCurrentContext(config.context);
  }
  if (!kc.getCurrentCluster()) {
    throw new ConfigError(`GITFAAS_KUBE_CONTEXT: the kubeconfig's current context "${kc.getCurrentContext()}" names no cluster; set GITFAAS_KUBE_CONTEXT to one that does`);
  }
  return kc;
}
