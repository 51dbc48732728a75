// Enough of kustomize to read deploy/kubernetes without the binary: resources (files and
// directories), the namespace, images (newName/newTag) and strategic-merge patches
// (merging lists by their Kubernetes merge keys, `$patch: delete`). Used by the manifest
// tests only; `kubectl apply -k` is the real thing.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; [key: string]: any };

const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'PersistentVolume', 'StorageClass']);
/** The strategic-merge keys of the lists these manifests patch. */
const MERGE_KEYS: Record<string, string> = { containers: 'name', initContainers: 'name', env: 'name', volumes: 'name', volumeMounts: 'mountPath', ports: 'containerPort' };

export async function parseYamlFile(file: string): Promise<any[]> {
  const docs = parseAllDocuments(await readFile(file, 'utf8'));
  for (const d of docs) if (d.errors.length) throw new Error(`${file}: ${d.errors[0].message}`);
  return docs.map((d) => d.toJS()).filter((o) => o != null);
}

export interface Kustomization {
  /** Files read, relative to the kustomization's directory. */
  files: string[];
  objects: K8sObject[];
}

export async function buildKustomization(dir: string): Promise<Kustomization> {
  const [k] = await parseYamlFile(path.join(dir, 'kustomization.yaml'));
  const files: string[] = [];
  let objects: K8sObject[] = [];
  for (const r of (k.resources ?? []) as string[]) {
    const target = path.join(dir, r);
    if ((await stat(target)).isDirectory()) {
      const sub = await buildKustomization(target);
      files.push(...sub.files.map((f) => path.join(r, f)));
      objects.push(...sub.objects);
    } else {
      files.push(r);
      objects.push(...((await parseYamlFile(target)) as K8sObject[]));
    }
  }
  for (const p of (k.patches ?? []) as { path: string }[]) {
    files.push(p.path);
    for (const patch of await parseYamlFile(path.join(dir, p.path))) objects = applyPatch(objects, patch);
  }
  if (k.namespace) for (const o of objects) if (!CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = k.namespace;
  for (const img of (k.images ?? []) as { name: string; newName?: string; newTag?: string }[]) {
    for (const c of containersOf(objects)) {
      const [name, tag] = splitImage(c.image);
      if (name === img.name) c.image = `${img.newName ?? name}:${img.newTag ?? tag}`;
    }
  }
  return { files, objects };
}

function sameObject(a: K8sObject, b: K8sObject): boolean {
  return a.kind === b.kind && a.metadata.name === b.metadata.name && (a.metadata.namespace ?? '') === (b.metadata?.namespace ?? '');
}

function applyPatch(objects: K8sObject[], patch: any): K8sObject[] {
  const i = objects.findIndex((o) => sameObject(o, patch));
  if (i < 0) throw new Error(`patch targets ${patch.kind} ${patch.metadata?.namespace}/${patch.metadata?.name}, which the base does not have`);
  if (patch.$patch === 'delete') return objects.filter((_, j) => j !== i);
  objects[i] = merge(objects[i], patch, '') as K8sObject;
  return objects;
}

function merge(base: any, patch: any, key: string): any {
  if (Array.isArray(patch)) {
    const mergeKey = MERGE_KEYS[key];
    if (!mergeKey || !Array.isArray(base)) return patch;
    const out = [...base];
    const added: any[] = [];
    for (const item of patch) {
      const j = out.findIndex((b) => b?.[mergeKey] === item?.[mergeKey]);
      if (j < 0) added.push(item);
      else out[j] = merge(out[j], item, '');
    }
    // kustomize puts the patch's new items first.
    return [...added, ...out];
  }
  if (patch !== null && typeof patch === 'object') {
    const out = { ...(base ?? {}) };
    for (const [k, v] of Object.entries(patch)) out[k] = merge(out[k], v, k);
    return out;
  }
  return patch;
}

export function splitImage(image: string): [string, string | undefined] {
  const at = image.lastIndexOf(':');
  return at > image.lastIndexOf('/') ? [image.slice(0, at), image.slice(at + 1)] : [image, undefined];
}

export function podSpecOf(o: K8sObject): any | undefined {
  return ['Deployment', 'StatefulSet', 'DaemonSet', 'Job'].includes(o.kind) ? o.spec?.template?.spec : undefined;
}

export function containersOf(objects: K8sObject[]): any[] {
  return objects.flatMap((o) => [...(podSpecOf(o)?.containers ?? []), ...(podSpecOf(o)?.initContainers ?? [])]);
}
