// Turns a pod's first container into Docker create options, as a kubelet would: image,
// command/args, env (values, secretKeyRef, configMapKeyRef, fieldRef), port 8080 (or the
// first containerPort) published on 127.0.0.1, readOnlyRootFilesystem, user, limits,
// emptyDir as tmpfs, and Secret/ConfigMap volumes written to a host directory and bind
// mounted read-only at their mountPath.
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type Docker from 'dockerode';
import type { Store } from './store.js';

/** A pod that cannot start yet: reported as the container's waiting reason. */
export class NotReadyToStart extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export function containerPort(pod: any): number {
  return pod.spec.containers[0]?.ports?.[0]?.containerPort ?? 8080;
}

/** "128Mi" -> bytes, "500m" -> 0.5: the quantities a pod spec carries. */
export function parseQuantity(q: string | number): number {
  if (typeof q === 'number') return q;
  const m = /^([0-9.]+)([a-zA-Z]*)$/.exec(q.trim());
  if (!m) return NaN;
  const units: Record<string, number> = { '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };
  return Number(m[1]) * (units[m[2]] ?? NaN);
}

function decode(value: string): string {
  return Buffer.from(value, 'base64').toString('utf8');
}

function envOf(store: Store, pod: any, container: any): string[] {
  const ns = pod.metadata.namespace;
  const out: string[] = [];
  for (const e of container.env ?? []) {
    let value: string | undefined = e.value ?? '';
    const from = e.valueFrom;
    if (from?.secretKeyRef) {
      const secret = store.get('secrets', ns, from.secretKeyRef.name);
      const raw = secret?.data?.[from.secretKeyRef.key];
      if (raw === undefined && !from.secretKeyRef.optional) throw new NotReadyToStart('CreateContainerConfigError', `secret "${from.secretKeyRef.name}" not found or has no key "${from.secretKeyRef.key}"`);
      value = raw === undefined ? undefined : decode(raw);
    } else if (from?.configMapKeyRef) {
      const map = store.get('configmaps', ns, from.configMapKeyRef.name);
      value = map?.data?.[from.configMapKeyRef.key];
      if (value === undefined && !from.configMapKeyRef.optional) throw new NotReadyToStart('CreateContainerConfigError', `configmap "${from.configMapKeyRef.name}" not found or has no key "${from.configMapKeyRef.key}"`);
    } else if (from?.fieldRef) {
      const fields: Record<string, string> = { 'metadata.name': pod.metadata.name, 'metadata.namespace': ns, 'status.podIP': '127.0.0.1', 'spec.nodeName': 'standin' };
      value = fields[from.fieldRef.fieldPath] ?? '';
    }
    if (value !== undefined) out.push(`${e.name}=${value}`);
  }
  return out;
}

/** Writes a Secret or ConfigMap volume's files under dir; a missing one stops the pod from starting, as MountVolume.SetUp does. */
async function writeVolume(store: Store, pod: any, volume: any, dir: string): Promise<void> {
  const ns = pod.metadata.namespace;
  const source = volume.secret ?? volume.configMap;
  const name = volume.secret ? source.secretName : source.name;
  const obj = store.get(volume.secret ? 'secrets' : 'configmaps', ns, name);
  if (!obj && !source.optional) {
    throw new NotReadyToStart('ContainerCreating', `MountVolume.SetUp failed for volume "${volume.name}" : ${volume.secret ? 'secret' : 'configmap'} "${name}" not found`);
  }
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries<string>(obj?.data ?? {})) data[k] = volume.secret ? decode(v) : v;
  for (const [k, v] of Object.entries<string>(obj?.binaryData ?? {})) data[k] = decode(v);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await chmod(dir, 0o755);
  const items: Array<{ key: string; path: string; mode?: number }> = source.items ?? Object.keys(data).map((key) => ({ key, path: key }));
  for (const item of items) {
    if (!(item.key in data)) continue;
    const file = path.join(dir, item.path);
    await mkdir(path.dirname(file), { recursive: true, mode: 0o755 });
    await writeFile(file, data[item.key], { mode: item.mode ?? source.defaultMode ?? 0o644 });
    await chmod(file, item.mode ?? source.defaultMode ?? 0o644);
  }
}

export interface SpecOptions {
  name: string;
  labels: Record<string, string>;
  /** Where this pod's volume directories live on the host. */
  podDir: string;
}

export async function containerOptions(store: Store, pod: any, opts: SpecOptions): Promise<Docker.ContainerCreateOptions> {
  const container = pod.spec.containers[0];
  const port = `${containerPort(pod)}/tcp`;
  const security = { ...pod.spec.securityContext, ...container.securityContext };
  const binds: string[] = [];
  const tmpfs: Record<string, string> = {};
  for (const mount of container.volumeMounts ?? []) {
    const volume = (pod.spec.volumes ?? []).find((v: any) => v.name === mount.name);
    if (!volume) throw new NotReadyToStart('CreateContainerConfigError', `volumeMount "${mount.name}" names no volume`);
    if (volume.emptyDir) tmpfs[mount.mountPath] = 'rw,exec,mode=1777';
    else if (volume.secret || volume.configMap) {
      const dir = path.join(opts.podDir, volume.name);
      await writeVolume(store, pod, volume, dir);
      binds.push(`${dir}:${mount.mountPath}:ro`);
    } else throw new NotReadyToStart('CreateContainerConfigError', `volume "${volume.name}": only emptyDir, secret and configMap volumes are supported by the stand-in`);
  }
  const limits = container.resources?.limits ?? {};
  const user = security.runAsUser !== undefined ? `${security.runAsUser}${security.runAsGroup !== undefined ? `:${security.runAsGroup}` : ''}` : undefined;
  return {
    name: opts.name,
    Image: container.image,
    ...(container.command ? { Entrypoint: container.command } : {}),
    ...(container.args ? { Cmd: container.args } : {}),
    ...(container.workingDir ? { WorkingDir: container.workingDir } : {}),
    ...(user ? { User: user } : {}),
    Hostname: pod.metadata.name.slice(0, 63),
    Env: envOf(store, pod, container),
    Labels: opts.labels,
    ExposedPorts: { [port]: {} },
    HostConfig: {
      PortBindings: { [port]: [{ HostIp: '127.0.0.1', HostPort: '' }] },
      ReadonlyRootfs: security.readOnlyRootFilesystem === true,
      Binds: binds,
      Tmpfs: tmpfs,
      ...(limits.memory ? { Memory: Math.round(parseQuantity(limits.memory)) } : {}),
      ...(limits.cpu ? { NanoCpus: Math.round(parseQuantity(limits.cpu) * 1e9) } : {}),
      ...(security.allowPrivilegeEscalation === false ? { SecurityOpt: ['no-new-privileges'] } : {}),
      ...(security.capabilities?.drop ? { CapDrop: security.capabilities.drop } : {}),
    },
  };
}
