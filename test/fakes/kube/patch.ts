// The three patch formats the client sends: JSON Patch (RFC 6902, the client's default),
// JSON Merge Patch (RFC 7386) and strategic merge patch for the cases gitfaas's objects
// meet (lists of containers, env, ports, volumes and mounts merged by their key).
import { badRequest, unsupportedMediaType, KubeError } from './status.js';

export function applyPatch(target: any, patch: any, contentType: string): any {
  const type = contentType.split(';')[0].trim();
  if (type === 'application/json-patch+json') return jsonPatch(target, patch);
  if (type === 'application/merge-patch+json') return mergePatch(target, patch);
  if (type === 'application/strategic-merge-patch+json') return strategicMerge(target, patch, '');
  throw unsupportedMediaType(type);
}

export function mergePatch(target: any, patch: any): any {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return structuredClone(patch);
  const out = target && typeof target === 'object' && !Array.isArray(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** The merge key of a list field, by the field's name, as the Kubernetes types declare it. */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  imagePullSecrets: 'name',
  conditions: 'type',
  'containers.ports': 'containerPort',
  'spec.ports': 'port',
};

function strategicMerge(target: any, patch: any, path: string): any {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return structuredClone(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _, ...rest } = patch;
    return structuredClone(rest);
  }
  const out = target && typeof target === 'object' && !Array.isArray(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue;
    if (v === null) {
      delete out[k];
      continue;
    }
    const parent = path.split('.').pop() ?? '';
    const key = MERGE_KEYS[`${parent}.${k}`] ?? MERGE_KEYS[k];
    if (Array.isArray(v) && key && Array.isArray(out[k])) out[k] = mergeList(out[k], v, key, k);
    else out[k] = strategicMerge(out[k], v, k);
  }
  return out;
}

function mergeList(current: any[], patch: any[], key: string, field: string): any[] {
  const out = [...current];
  for (const item of patch) {
    if (!item || typeof item !== 'object' || !(key in item)) throw badRequest(`map: ${JSON.stringify(item)} does not contain declared merge key: ${key}`);
    const at = out.findIndex((e) => e?.[key] === item[key]);
    if (item.$patch === 'delete') {
      if (at >= 0) out.splice(at, 1);
    } else if (at >= 0) out[at] = strategicMerge(out[at], item, field);
    else out.push(strategicMerge(undefined, item, field));
  }
  return out;
}

interface Operation {
  op: string;
  path: string;
  value?: unknown;
  from?: string;
}

/** RFC 6902, all six operations; a failed `test` or a missing path is an error, as on the API server. */
export function jsonPatch(target: any, ops: unknown): any {
  if (!Array.isArray(ops)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let doc = structuredClone(target);
  for (const op of ops as Operation[]) {
    const fail = (why: string) => new KubeError(422, 'Invalid', `the server rejected our request due to an error in our request: ${op.op} ${op.path}: ${why}`);
    switch (op.op) {
      case 'add':
        doc = put(doc, tokens(op.path), structuredClone(op.value), 'add', fail);
        break;
      case 'replace':
        get(doc, tokens(op.path), fail);
        doc = put(doc, tokens(op.path), structuredClone(op.value), 'replace', fail);
        break;
      case 'remove':
        get(doc, tokens(op.path), fail);
        doc = put(doc, tokens(op.path), undefined, 'remove', fail);
        break;
      case 'move': {
        const value = get(doc, tokens(op.from ?? ''), fail);
        doc = put(doc, tokens(op.from ?? ''), undefined, 'remove', fail);
        doc = put(doc, tokens(op.path), value, 'add', fail);
        break;
      }
      case 'copy':
        doc = put(doc, tokens(op.path), structuredClone(get(doc, tokens(op.from ?? ''), fail)), 'add', fail);
        break;
      case 'test':
        if (JSON.stringify(get(doc, tokens(op.path), fail)) !== JSON.stringify(op.value)) throw fail('test failed');
        break;
      default:
        throw badRequest(`Unexpected kind: ${op.op}`);
    }
  }
  return doc;
}

function tokens(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw badRequest(`JSON pointer must start with "/": ${pointer}`);
  return pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function get(doc: any, path: string[], fail: (why: string) => Error): any {
  let at = doc;
  for (const t of path) {
    if (at === null || typeof at !== 'object' || !(t in at)) throw fail(`path not found`);
    at = at[t];
  }
  return at;
}

function put(doc: any, path: string[], value: unknown, mode: 'add' | 'replace' | 'remove', fail: (why: string) => Error): any {
  if (path.length === 0) return value;
  const parent = get(doc, path.slice(0, -1), fail);
  const last = path[path.length - 1];
  if (Array.isArray(parent)) {
    const index = last === '-' ? parent.length : Number(last);
    if (!Number.isInteger(index) || index < 0 || index > parent.length) throw fail('index out of range');
    if (mode === 'add') parent.splice(index, 0, value);
    else if (mode === 'replace') parent[index] = value;
    else parent.splice(index, 1);
  } else if (parent && typeof parent === 'object') {
    if (mode === 'remove') delete parent[last];
    else parent[last] = value;
  } else throw fail('parent is not a container');
  return doc;
}
