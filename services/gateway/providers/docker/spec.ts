// Translates a neutral deployment into Docker container options, and a container's
// inspect data back into the neutral FunctionStatus fields.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type Docker from 'dockerode';
import * as L from './labels.js';
import { parseScaleLabels } from '../policy.js';
import { memoryBytes, nanoCpus } from '../quantity.js';
import { ProviderError, type FunctionStatus, type NamespacedDeployment } from '../provider.js';

export interface SpecOptions {
  /** Host address the function's port is published on. */
  functionHost: string;
  /** Directory holding secrets as <namespace>/<name>. */
  secretsDir: string;
  /** The gateway instance the containers belong to (label com.gitfaas.instance). */
  instance: string;
}

/** Checks what Docker would otherwise reject late, so nothing is created for bad input. */
export function validateDeployment(d: NamespacedDeployment): void {
  if (!d.image || typeof d.image !== 'string') throw new ProviderError('invalid', 'image is required');
  for (const key of Object.keys(d.labels ?? {})) {
    // Case-insensitive: COM.GITFAAS.instance must not pass as a user's label.
    if (key.toLowerCase().startsWith(L.RESERVED_PREFIX)) throw new ProviderError('invalid', `label "${key}": the prefix ${L.RESERVED_PREFIX} is reserved`);
  }
  for (const key of Object.keys(d.envVars ?? {})) {
    if (!/^[^=\0]+$/.test(key)) throw new ProviderError('invalid', `envVars key "${key}" is not a valid variable name`);
  }
  if (d.limits?.memory) memoryBytes(d.limits.memory, 'limits.memory');
  if (d.limits?.cpu) nanoCpus(d.limits.cpu, 'limits.cpu');
  if (d.requests?.memory) memoryBytes(d.requests.memory, 'requests.memory');
  if (d.requests?.cpu) nanoCpus(d.requests.cpu, 'requests.cpu');
}

/** Replicas a new deployment starts with: OpenFaaS's com.openfaas.scale.min label, else 1. */
export function initialReplicas(d: NamespacedDeployment, max: number): number {
  return parseScaleLabels(d.labels, max).min;
}

export function containerName(d: { service: string; namespace: string }): string {
  return `gitfaas-${d.namespace}-${d.service}-${randomBytes(4).toString('hex')}`;
}

export function createOptions(d: NamespacedDeployment, generation: string, role: L.Role, opts: SpecOptions): Docker.ContainerCreateOptions {
  const env = Object.entries(d.envVars ?? {}).map(([k, v]) => `${k}=${v}`);
  if (d.envProcess) env.push(`fprocess=${d.envProcess}`);
  const labels: Record<string, string> = {
    ...d.labels,
    [L.MANAGED]: 'true',
    [L.INSTANCE]: opts.instance,
    [L.FUNCTION]: d.service,
    [L.NAMESPACE]: d.namespace,
    [L.GENERATION]: generation,
    [L.ROLE]: role,
    [L.ENV_KEYS]: JSON.stringify(Object.keys(d.envVars ?? {})),
  };
  if (d.envProcess) labels[L.ENV_PROCESS] = d.envProcess;
  if (d.secrets?.length) labels[L.SECRETS] = JSON.stringify(d.secrets);
  if (d.constraints?.length) labels[L.CONSTRAINTS] = JSON.stringify(d.constraints);
  if (d.limits?.memory) labels[L.LIMIT_MEMORY] = d.limits.memory;
  if (d.limits?.cpu) labels[L.LIMIT_CPU] = d.limits.cpu;
  if (d.requests?.memory) labels[L.REQUEST_MEMORY] = d.requests.memory;
  if (d.requests?.cpu) labels[L.REQUEST_CPU] = d.requests.cpu;
  for (const [k, v] of Object.entries(d.annotations ?? {})) labels[L.ANNOTATION_PREFIX + k] = v;

  const host: Docker.HostConfig = {
    PortBindings: { [L.FUNCTION_PORT]: [{ HostIp: opts.functionHost, HostPort: '' }] },
    ReadonlyRootfs: d.readOnlyRootFilesystem === true,
    // A read-only function still gets a scratch /tmp, as OpenFaaS gives one.
    Tmpfs: d.readOnlyRootFilesystem ? { '/tmp': 'rw,noexec,nosuid,size=64m' } : undefined,
    Binds: (d.secrets ?? []).map((s) => `${path.join(opts.secretsDir, d.namespace, s)}:${L.SECRETS_MOUNT}/${s}:ro`),
    RestartPolicy: { Name: 'no' },
    LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '2' } },
  };
  if (d.limits?.memory) host.Memory = memoryBytes(d.limits.memory, 'limits.memory');
  if (d.limits?.cpu) host.NanoCpus = nanoCpus(d.limits.cpu, 'limits.cpu');
  if (d.requests?.memory) host.MemoryReservation = memoryBytes(d.requests.memory, 'requests.memory');
  if (d.requests?.cpu) host.CpuShares = Math.max(2, Math.round((nanoCpus(d.requests.cpu, 'requests.cpu') / 1e9) * 1024));

  return {
    name: containerName(d),
    Image: d.image,
    Env: env,
    Labels: labels,
    ExposedPorts: { [L.FUNCTION_PORT]: {} },
    HostConfig: host,
  };
}

/** The same container again (another replica, or a role change), from a container's inspect data. */
export function cloneOptions(info: Docker.ContainerInspectInfo, role: L.Role): Docker.ContainerCreateOptions {
  const labels: Record<string, string> = { ...info.Config.Labels, [L.ROLE]: role };
  const service = labels[L.FUNCTION];
  const namespace = labels[L.NAMESPACE];
  return {
    name: containerName({ service, namespace }),
    Image: info.Config.Image,
    Env: info.Config.Env,
    Cmd: info.Config.Cmd ?? undefined,
    Entrypoint: info.Config.Entrypoint ?? undefined,
    WorkingDir: info.Config.WorkingDir,
    User: info.Config.User,
    Labels: labels,
    ExposedPorts: { [L.FUNCTION_PORT]: {} },
    HostConfig: {
      PortBindings: info.HostConfig.PortBindings,
      ReadonlyRootfs: info.HostConfig.ReadonlyRootfs,
      Tmpfs: info.HostConfig.Tmpfs,
      Binds: info.HostConfig.Binds ?? [],
      RestartPolicy: { Name: 'no' },
      LogConfig: info.HostConfig.LogConfig,
      Memory: info.HostConfig.Memory,
      NanoCpus: info.HostConfig.NanoCpus,
      MemoryReservation: info.HostConfig.MemoryReservation,
      CpuShares: info.HostConfig.CpuShares,
    },
  };
}

const parseJson = <T>(value: string | undefined, fallback: T): T => {
  if (!value) return fallback;
  try {
    return JSON.parse(value) as T;
  } catch {
    return fallback;
  }
};

/** The deployment-shaped part of FunctionStatus, read back from one container. */
export function statusFromContainer(info: Docker.ContainerInspectInfo): Omit<FunctionStatus, 'invocationCount' | 'replicas' | 'availableReplicas'> {
  const labels = info.Config.Labels ?? {};
  const userLabels: Record<string, string> = {};
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) {
    if (k.startsWith(L.ANNOTATION_PREFIX)) annotations[k.slice(L.ANNOTATION_PREFIX.length)] = v;
    else if (!k.startsWith(L.RESERVED_PREFIX)) userLabels[k] = v;
  }
  const envKeys = new Set(parseJson<string[]>(labels[L.ENV_KEYS], []));
  const envVars: Record<string, string> = {};
  for (const entry of info.Config.Env ?? []) {
    const eq = entry.indexOf('=');
    const key = entry.slice(0, eq);
    if (envKeys.has(key)) envVars[key] = entry.slice(eq + 1);
  }
  const limits = pick({ memory: labels[L.LIMIT_MEMORY], cpu: labels[L.LIMIT_CPU] });
  const requests = pick({ memory: labels[L.REQUEST_MEMORY], cpu: labels[L.REQUEST_CPU] });
  return {
    name: labels[L.FUNCTION],
    namespace: labels[L.NAMESPACE],
    image: info.Config.Image,
    envProcess: labels[L.ENV_PROCESS],
    envVars,
    constraints: parseJson<string[]>(labels[L.CONSTRAINTS], []),
    secrets: parseJson<string[]>(labels[L.SECRETS], []),
    labels: userLabels,
    annotations,
    limits,
    requests,
    readOnlyRootFilesystem: info.HostConfig.ReadonlyRootfs === true,
    createdAt: new Date(Number(labels[L.GENERATION]) || Date.parse(info.Created)).toISOString(),
  };
}

function pick<T extends Record<string, string | undefined>>(o: T): T | undefined {
  const out = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
  return Object.keys(out).length ? out : undefined;
}
