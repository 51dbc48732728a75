// Secrets are Opaque Secrets labelled app.kubernetes.io/managed-by=gitfaas, one key named
// after the Secret, projected read-only at /var/openfaas/secrets/<name>. Values are written,
// never returned; only Secrets gitfaas labelled are listed. The registry credentials
// (GITFAAS_KUBE_IMAGE_PULL_SECRET) are one more Secret per namespace, of type
// kubernetes.io/dockerconfigjson, that pods name in imagePullSecrets.
import { CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import { dnsLabelProblem } from '../../../../shared/names.js';
import { ProviderError, type Secret } from '../provider.js';
import { call, statusCode, toProviderError } from './errors.js';
import * as L from './labels.js';

const b64 = (v: string | Uint8Array) => (typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v)).toString('base64');

export class Secrets {
  private readonly core: CoreV1Api;

  constructor(kc: KubeConfig) {
    this.core = kc.makeApiClient(CoreV1Api);
  }

  async list(namespace: string): Promise<Secret[]> {
    const list = await call(`secrets in namespace "${namespace}"`, () => this.core.listNamespacedSecret({ namespace, labelSelector: L.managedSelector }));
    return list.items
      .filter((s) => s.type === 'Opaque')
      .map((s) => ({ name: s.metadata!.name!, namespace }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async exists(name: string, namespace: string): Promise<boolean> {
    return (await this.list(namespace)).some((s) => s.name === name);
  }

  async create(secret: Secret): Promise<void> {
    await call(what(secret), () => this.core.createNamespacedSecret({ namespace: secret.namespace, body: body(secret) }));
  }

  async update(secret: Secret): Promise<void> {
    // Only a Secret gitfaas made may be overwritten; an unconditional PUT keeps its value unread.
    if (!(await this.exists(secret.name, secret.namespace))) throw notFound(secret.name, secret.namespace);
    await call(what(secret), () => this.core.replaceNamespacedSecret({ name: secret.name, namespace: secret.namespace, body: body(secret) }));
  }

  async remove(name: string, namespace: string): Promise<void> {
    if (!(await this.exists(name, namespace))) throw notFound(name, namespace);
    await call(what({ name, namespace }), () => this.core.deleteNamespacedSecret({ name, namespace }));
  }

  /** Writes the registry credentials into a namespace (create, or replace when they changed). */
  async ensurePullSecret(namespace: string, dockerConfigJson: string): Promise<void> {
    const wanted: V1Secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/dockerconfigjson',
      metadata: { name: L.PULL_SECRET_NAME, namespace, labels: { [L.MANAGED_BY]: L.MANAGED_BY_VALUE } },
      data: { '.dockerconfigjson': b64(dockerConfigJson) },
    };
    const target = `registry credentials "${L.PULL_SECRET_NAME}" in namespace "${namespace}"`;
    try {
      await this.core.createNamespacedSecret({ namespace, body: wanted });
    } catch (err) {
      if (statusCode(err) !== 409) throw toProviderError(err, target);
      await call(target, () => this.core.replaceNamespacedSecret({ name: L.PULL_SECRET_NAME, namespace, body: wanted }));
    }
  }
}

function what(s: { name: string; namespace: string }): string {
  const problem = dnsLabelProblem(s.name);
  if (problem) throw new ProviderError('invalid', `secret "${s.name}": the name ${problem}`);
  return `secret "${s.name}" in namespace "${s.namespace}"`;
}

function notFound(name: string, namespace: string): ProviderError {
  return new ProviderError('not_found', `secret "${name}" not found in namespace "${namespace}"`);
}

function body(secret: Secret): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: { name: secret.name, namespace: secret.namespace, labels: { [L.MANAGED_BY]: L.MANAGED_BY_VALUE } },
    data: { [secret.name]: b64(secret.value ?? '') },
  };
}
