// A neutral deployment as a Deployment plus a Service, shaped as faas-netes shapes them
// (selector faas_function=<name>, port 8080 named http, RollingUpdate 0/1, probes on
// /_/health, secrets projected at /var/openfaas/secrets), and a Deployment read back as the
// deployment-shaped part of FunctionStatus.
import type { V1Container, V1Deployment, V1Service, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { parseCpu, parseMemory } from '../../../../shared/quantity.js';
import { dnsLabelProblem } from '../../../../shared/names.js';
import { parseScaleLabels } from '../policy.js';
import { ProviderError, type FunctionResources, type FunctionStatus, type NamespacedDeployment } from '../provider.js';
import * as L from './labels.js';

export interface SpecOptions {
  /** The gateway instance the function belongs to (GITFAAS_INSTANCE). */
  instance: string;
  /** Adds imagePullSecrets: [gitfaas-registry-credentials] (GITFAAS_KUBE_IMAGE_PULL_SECRET is set). */
  pullSecret: boolean;
}

/** What the Deployment cannot say back exactly, kept in one annotation. */
interface Recorded {
  envProcess?: string;
  secrets?: string[];
  constraints?: string[];
  limits?: FunctionResources;
  requests?: FunctionResources;
  annotationKeys?: string[];
}

/** Checks what the API server would refuse late or unclearly, so nothing is created for bad input. */
export function validateDeployment(d: NamespacedDeployment): void {
  const problem = dnsLabelProblem(d.service);
  if (problem) throw new ProviderError('invalid', `service "${d.service}": the name ${problem}`);
  if (!d.image || typeof d.image !== 'string') throw new ProviderError('invalid', 'image is required');
  for (const key of [...Object.keys(d.labels ?? {}), ...Object.keys(d.annotations ?? {})]) {
    if (L.isReserved(key)) throw new ProviderError('invalid', `label or annotation "${key}" is reserved for gitfaas`);
  }
  for (const key of Object.keys(d.envVars ?? {})) {
    if (!/^[^=\0]+$/.test(key)) throw new ProviderError('invalid', `envVars key "${key}" is not a valid variable name`);
  }
  for (const [field, value] of resourceFields(d)) {
    const ok = field.endsWith('memory') ? parseMemory(value) !== undefined : (parseCpu(value) ?? 0) > 0;
    if (!ok) throw new ProviderError('invalid', `${field} "${value}" is not a ${field.endsWith('memory') ? 'memory quantity such as 128Mi' : 'CPU quantity above 0 such as 500m'}`);
  }
  for (const c of d.constraints ?? []) {
    if (!/^[^=\s]+\s*==?\s*\S*$/.test(c)) throw new ProviderError('invalid', `constraint "${c}" must read key=value or key==value (a node label)`);
  }
}

function resourceFields(d: NamespacedDeployment): [string, string][] {
  const out: [string, string][] = [];
  for (const kind of ['limits', 'requests'] as const) {
    for (const r of ['memory', 'cpu'] as const) {
      const v = d[kind]?.[r];
      if (v !== undefined) out.push([`${kind}.${r}`, v]);
    }
  }
  return out;
}

/** Replicas a new function starts with: com.openfaas.scale.min, else 1. */
export function initialReplicas(d: NamespacedDeployment, max: number): number {
  return parseScaleLabels(d.labels, max).min;
}

function gitfaasLabels(d: NamespacedDeployment, opts: SpecOptions): Record<string, string> {
  return { [L.FUNCTION]: d.service, [L.MANAGED_BY]: L.MANAGED_BY_VALUE, [L.INSTANCE]: opts.instance };
}

function nodeSelector(constraints: string[] | undefined): Record<string, string> | undefined {
  if (!constraints?.length) return undefined;
  return Object.fromEntries(constraints.map((c) => c.split(/\s*==?\s*/, 2).map((s) => s.trim()) as [string, string]));
}

function container(d: NamespacedDeployment): V1Container {
  const env = Object.entries(d.envVars ?? {}).map(([name, value]) => ({ name, value }));
  if (d.envProcess) env.push({ name: 'fprocess', value: d.envProcess });
  const mounts: V1VolumeMount[] = [];
  if (d.secrets?.length) mounts.push({ name: 'secrets', mountPath: L.SECRETS_MOUNT, readOnly: true });
  // A read-only function still gets a scratch /tmp, as faas-netes gives one.
  if (d.readOnlyRootFilesystem) mounts.push({ name: 'tmp', mountPath: '/tmp' });
  const probe = (periodSeconds: number, initialDelaySeconds: number) => ({
    httpGet: { path: '/_/health', port: L.FUNCTION_PORT, scheme: 'HTTP' },
    initialDelaySeconds,
    periodSeconds,
    timeoutSeconds: 1,
    failureThreshold: 3,
  });
  return {
    name: d.service,
    image: d.image,
    imagePullPolicy: 'Always',
    ports: [{ name: L.PORT_NAME, containerPort: L.FUNCTION_PORT, protocol: 'TCP' }],
    env,
    resources: { limits: pickResources(d.limits), requests: pickResources(d.requests) },
    readinessProbe: probe(2, 0),
    livenessProbe: probe(10, 10),
    securityContext: { readOnlyRootFilesystem: d.readOnlyRootFilesystem === true, allowPrivilegeEscalation: false },
    volumeMounts: mounts,
  };
}

function pickResources(r: FunctionResources | undefined): Record<string, string> | undefined {
  if (!r) return undefined;
  const out = Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as Record<string, string>;
  return Object.keys(out).length ? out : undefined;
}

function volumes(d: NamespacedDeployment): V1Volume[] {
  const out: V1Volume[] = [];
  if (d.secrets?.length) {
    // Each Secret holds one key named after it, so it appears as /var/openfaas/secrets/<name>.
    out.push({ name: 'secrets', projected: { sources: d.secrets.map((s) => ({ secret: { name: s, items: [{ key: s, path: s }] } })) } });
  }
  if (d.readOnlyRootFilesystem) out.push({ name: 'tmp', emptyDir: {} });
  return out;
}

export function deploymentFor(d: NamespacedDeployment, replicas: number, opts: SpecOptions): V1Deployment {
  const ours = gitfaasLabels(d, opts);
  const recorded: Recorded = {
    envProcess: d.envProcess,
    secrets: d.secrets?.length ? d.secrets : undefined,
    constraints: d.constraints?.length ? d.constraints : undefined,
    limits: pickResources(d.limits) as FunctionResources | undefined,
    requests: pickResources(d.requests) as FunctionResources | undefined,
    annotationKeys: Object.keys(d.annotations ?? {}),
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: d.service,
      namespace: d.namespace,
      labels: { ...d.labels, ...ours },
      annotations: { ...d.annotations, [L.SPEC_ANNOTATION]: JSON.stringify(recorded) },
    },
    spec: {
      replicas,
      selector: { matchLabels: { [L.FUNCTION]: d.service } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      revisionHistoryLimit: 5,
      template: {
        metadata: { labels: { ...d.labels, ...ours }, annotations: { ...d.annotations } },
        spec: {
          containers: [container(d)],
          volumes: volumes(d),
          nodeSelector: nodeSelector(d.constraints),
          imagePullSecrets: opts.pullSecret ? [{ name: L.PULL_SECRET_NAME }] : undefined,
          // Functions do not talk to the API server, nor need every Service as env vars.
          automountServiceAccountToken: false,
          enableServiceLinks: false,
        },
      },
    },
  };
}

export function serviceFor(d: NamespacedDeployment, opts: SpecOptions): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: d.service, namespace: d.namespace, labels: gitfaasLabels(d, opts) },
    spec: {
      type: 'ClusterIP',
      selector: { [L.FUNCTION]: d.service },
      ports: [{ name: L.PORT_NAME, port: L.FUNCTION_PORT, targetPort: L.PORT_NAME, protocol: 'TCP' }],
    },
  };
}

function recordedOf(dep: V1Deployment): Recorded {
  try {
    return JSON.parse(dep.metadata?.annotations?.[L.SPEC_ANNOTATION] ?? '{}') as Recorded;
  } catch {
    return {};
  }
}

/** The deployment-shaped part of FunctionStatus, read back from a Deployment. */
export function statusFromDeployment(dep: V1Deployment): Omit<FunctionStatus, 'invocationCount' | 'availableReplicas'> {
  const recorded = recordedOf(dep);
  const c = dep.spec?.template.spec?.containers[0];
  const envVars: Record<string, string> = {};
  for (const e of c?.env ?? []) if (e.name !== 'fprocess' || recorded.envProcess === undefined) envVars[e.name] = e.value ?? '';
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(dep.metadata?.labels ?? {})) if (!L.isReserved(k) && k !== L.INSTANCE) labels[k] = v;
  const annotations: Record<string, string> = {};
  for (const k of recorded.annotationKeys ?? []) {
    const v = dep.metadata?.annotations?.[k];
    if (v !== undefined) annotations[k] = v;
  }
  const created = dep.metadata?.creationTimestamp;
  return {
    name: dep.metadata?.name ?? '',
    namespace: dep.metadata?.namespace ?? '',
    image: c?.image ?? '',
    envProcess: recorded.envProcess,
    envVars,
    constraints: recorded.constraints ?? [],
    secrets: recorded.secrets ?? [],
    labels,
    annotations,
    limits: recorded.limits,
    requests: recorded.requests,
    readOnlyRootFilesystem: c?.securityContext?.readOnlyRootFilesystem === true,
    replicas: dep.spec?.replicas ?? 0,
    createdAt: created ? new Date(created).toISOString() : undefined,
  };
}
