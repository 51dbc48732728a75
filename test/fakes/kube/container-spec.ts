// Turns a pod's first container into Docker create options, as a kubelet would: image,
// command/args, env (values, secretKeyRef, configMapKeyRef, fieldRef), port 8080 (or the
// first containerPort) published on 127.0.0.1, readOnlyRootFilesystem, user, limits,
// emptyDir as tmpfs, and Secret, ConfigMap and projected volumes written to a host directory
// (volumes.ts) and bind mounted read-only at their mountPath.
import path from 'node:path';
import type Docker from 'dockerode';
import type { Store } from './store.js';
import { isFileVolume, NotReadyToStart, volumeFiles, writeAtomically } from './volumes.js';

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
    else if (isFileVolume(volume)) {
      const dir = path.join(opts.podDir, volume.name);
      await writeAtomically(dir, volumeFiles(store, pod.metadata.namespace, volume));
      binds.push(`${dir}:${mount.mountPath}:ro`);
    } else throw new NotReadyToStart('CreateContainerConfigError', `volume "${volume.name}": only emptyDir, secret, configMap and projected volumes are supported by the stand-in`);
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
