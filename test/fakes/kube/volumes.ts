// The kubelet's Secret, ConfigMap and projected volumes: what files a volume holds (keys,
// items key->path, modes), refused as MountVolume.SetUp refuses them when a source or a
// named key is missing and not optional, and written to a host directory the way the
// kubelet's AtomicWriter writes them (a fresh "..<stamp>" directory, the "..data" symlink
// swapped to it by a rename, each top-level path a symlink through "..data"), so a running
// container that bind-mounts the directory sees an update all at once.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
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

/** The volume kinds the stand-in writes to disk (emptyDir is a tmpfs, handled apart). */
export function isFileVolume(volume: any): boolean {
  return Boolean(volume.secret || volume.configMap || volume.projected);
}

interface File {
  data: Buffer;
  mode: number;
}

interface Source {
  kind: 'secret' | 'configmap';
  name: string;
  items?: Array<{ key: string; path: string; mode?: number }>;
  optional?: boolean;
  /** The mode of files without their own (defaultMode; 0644 as the API server defaults it). */
  mode: number;
}

const DEFAULT_MODE = 0o644;

function sourcesOf(volume: any): Source[] {
  if (volume.secret) return [{ kind: 'secret', name: volume.secret.secretName, items: volume.secret.items, optional: volume.secret.optional, mode: volume.secret.defaultMode ?? DEFAULT_MODE }];
  if (volume.configMap) return [{ kind: 'configmap', name: volume.configMap.name, items: volume.configMap.items, optional: volume.configMap.optional, mode: volume.configMap.defaultMode ?? DEFAULT_MODE }];
  const mode = volume.projected.defaultMode ?? DEFAULT_MODE;
  return (volume.projected.sources ?? []).map((s: any) => {
    if (s.secret) return { kind: 'secret', name: s.secret.name, items: s.secret.items, optional: s.secret.optional, mode };
    if (s.configMap) return { kind: 'configmap', name: s.configMap.name, items: s.configMap.items, optional: s.configMap.optional, mode };
    throw new NotReadyToStart('CreateContainerConfigError', `volume "${volume.name}": the stand-in projects only secret and configMap sources, not ${Object.keys(s).join(', ')}`);
  });
}

/** Whether a volume draws on this Secret or ConfigMap (plural "secrets" or "configmaps"). */
export function usesObject(volume: any, plural: string, name: string): boolean {
  if (!isFileVolume(volume)) return false;
  const kind = plural === 'secrets' ? 'secret' : 'configmap';
  try {
    return sourcesOf(volume).some((s) => s.kind === kind && s.name === name);
  } catch {
    return false;
  }
}

/** The files a Secret, ConfigMap or projected volume holds now, by path inside the volume. */
export function volumeFiles(store: Store, namespace: string, volume: any): Map<string, File> {
  const files = new Map<string, File>();
  for (const source of sourcesOf(volume)) {
    const obj = store.get(source.kind === 'secret' ? 'secrets' : 'configmaps', namespace, source.name);
    if (!obj) {
      if (source.optional) continue;
      throw new NotReadyToStart('ContainerCreating', `MountVolume.SetUp failed for volume "${volume.name}" : ${source.kind} "${source.name}" not found`);
    }
    const data = new Map<string, Buffer>();
    // Secret data and every binaryData are base64 on the wire; a ConfigMap's data is text.
    for (const [k, v] of Object.entries<string>(obj.data ?? {})) data.set(k, source.kind === 'secret' ? Buffer.from(v, 'base64') : Buffer.from(v, 'utf8'));
    for (const [k, v] of Object.entries<string>(obj.binaryData ?? {})) data.set(k, Buffer.from(v, 'base64'));
    const items: Array<{ key: string; path: string; mode?: number }> = source.items ?? [...data.keys()].map((key) => ({ key, path: key }));
    for (const item of items) {
      const value = data.get(item.key);
      if (value === undefined) {
        if (source.optional) continue;
        const why = source.kind === 'secret' ? `couldn't find key ${item.key} in Secret ${namespace}/${source.name}` : `configmap references non-existent config key: ${item.key}`;
        throw new NotReadyToStart('ContainerCreating', `MountVolume.SetUp failed for volume "${volume.name}" : ${why}`);
      }
      const rel = path.posix.normalize(item.path);
      if (rel.startsWith('..') || path.posix.isAbsolute(rel)) throw new NotReadyToStart('CreateContainerConfigError', `volume "${volume.name}": item path "${item.path}" must be relative and may not contain ".."`);
      files.set(rel, { data: value, mode: item.mode ?? source.mode });
    }
  }
  return files;
}

const stamp = () => `..${new Date().toISOString().replace(/[-:.]/g, '_')}.${randomBytes(4).toString('hex')}`;

/** Writes `files` into dir as the kubelet's AtomicWriter does; what a container already mounts sees the switch in one rename. */
export async function writeAtomically(dir: string, files: Map<string, File>): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await chmod(dir, 0o755);
  const before = await readlink(path.join(dir, '..data')).catch(() => undefined);
  const fresh = stamp();
  for (const [rel, file] of files) {
    const target = path.join(dir, fresh, rel);
    await mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
    await writeFile(target, file.data, { mode: file.mode });
    // writeFile's mode passes through the umask; the volume's mode must not.
    await chmod(target, file.mode);
  }
  await mkdir(path.join(dir, fresh), { recursive: true, mode: 0o755 });
  // A name of its own, so two writers of one volume (a start and a refresh) cannot collide.
  const tmp = path.join(dir, `..data_tmp${randomBytes(4).toString('hex')}`);
  await symlink(fresh, tmp);
  await rename(tmp, path.join(dir, '..data'));
  const top = new Set([...files.keys()].map((rel) => rel.split('/')[0]));
  for (const name of top) {
    await symlink(path.posix.join('..data', name), path.join(dir, name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
  }
  // Paths the new content no longer has, and the old content itself.
  for (const entry of await readdir(dir)) {
    if (!entry.startsWith('..') && !top.has(entry)) await rm(path.join(dir, entry), { force: true });
  }
  if (before && before !== fresh) await rm(path.join(dir, before), { recursive: true, force: true });
}
