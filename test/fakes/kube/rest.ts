// The REST verbs on one resource: list / watch / get / create / replace / patch / delete /
// deletecollection, the status and scale subresources, and pods/log. Every object that
// comes in is defaulted and validated before it is stored; everything stored comes out of
// the Store with the server's metadata.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { applyDefaults } from './defaults.js';
import { applyPatch } from './patch.js';
import { apiVersionOf, type ResourceType } from './resources.js';
import type { Route } from './routes.js';
import { readScale, writeScale } from './scale.js';
import { fieldSelector, labelSelector } from './selector.js';
import { badRequest, KubeError, methodNotAllowed, notFound, conflict } from './status.js';
import type { Store } from './store.js';
import { validateObject } from './validate.js';
import { serveWatch } from './watch.js';
import { randomBytes } from 'node:crypto';

export interface RestContext {
  store: Store;
  bookmarkIntervalMs: number;
  /** Serves GET pods/{name}/log. */
  serveLog(req: IncomingMessage, res: ServerResponse, pod: any, query: URLSearchParams): Promise<void>;
}

export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Kinds whose status only the status subresource (or a controller) writes. */
const HAS_STATUS = new Set(['deployments', 'pods', 'services', 'namespaces']);

export async function handle(ctx: RestContext, req: IncomingMessage, res: ServerResponse, r: Route, url: URL, body: Buffer): Promise<void> {
  const { store } = ctx;
  const { type, namespace, name, subresource } = r;
  const q = url.searchParams;
  const method = req.method ?? 'GET';
  // Creating in a namespace that does not exist is a 404 naming the namespace, as on the API server.
  if (namespace && method === 'POST' && !name && !store.get('namespaces', undefined, namespace)) {
    throw notFound({ group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false }, namespace);
  }

  if (!name) {
    const matches = (o: any) => labelSelector(q.get('labelSelector'))(o) && fieldSelector(q.get('fieldSelector'))(o);
    if (method === 'GET' && (q.get('watch') === 'true' || q.get('watch') === '1')) {
      const timeout = q.get('timeoutSeconds');
      return serveWatch(store, req, res, {
        type,
        namespace,
        matches,
        resourceVersion: q.get('resourceVersion'),
        bookmarks: q.get('allowWatchBookmarks') === 'true',
        bookmarkIntervalMs: ctx.bookmarkIntervalMs,
        timeoutSeconds: timeout ? Number(timeout) : undefined,
      });
    }
    if (method === 'GET') {
      const items = store.list(type.plural, namespace, matches).map(({ kind: _k, apiVersion: _a, ...item }) => item);
      return sendJson(res, 200, { kind: `${type.kind}List`, apiVersion: apiVersionOf(type), metadata: { resourceVersion: String(store.revision) }, items });
    }
    if (method === 'POST') return sendJson(res, 201, create(store, type, namespace, parse(body)));
    if (method === 'DELETE') {
      const deleted = store.list(type.plural, namespace, matches).map((o) => remove(store, type, o.metadata.namespace, o.metadata.name, {}, q));
      return sendJson(res, 200, { kind: `${type.kind}List`, apiVersion: apiVersionOf(type), metadata: { resourceVersion: String(store.revision) }, items: deleted });
    }
    throw methodNotAllowed();
  }

  if (subresource === 'log' && type.plural === 'pods') {
    if (method !== 'GET') throw methodNotAllowed();
    return ctx.serveLog(req, res, store.mustGet('pods', namespace, name), q);
  }
  if (subresource === 'scale' && type.plural === 'deployments') {
    if (method === 'GET') return sendJson(res, 200, readScale(store.mustGet('deployments', namespace, name)));
    if (method === 'PUT') return sendJson(res, 200, writeScale(store, namespace!, name, parse(body)));
    if (method === 'PATCH') {
      const scale = applyPatch(readScale(store.mustGet('deployments', namespace, name)), parse(body), req.headers['content-type'] ?? '');
      return sendJson(res, 200, writeScale(store, namespace!, name, scale, true));
    }
    throw methodNotAllowed();
  }
  if (subresource && !(subresource === 'status' && HAS_STATUS.has(type.plural))) throw notFound(type, `${name}/${subresource}`);
  const statusOnly = subresource === 'status';

  if (method === 'GET') return sendJson(res, 200, store.mustGet(type.plural, namespace, name));
  if (method === 'PUT') return sendJson(res, 200, replace(store, type, namespace, name, parse(body), statusOnly));
  if (method === 'PATCH') {
    const current = store.mustGet(type.plural, namespace, name);
    const patched = applyPatch(current, parse(body), req.headers['content-type'] ?? '');
    // A patch that carries no resourceVersion is unconditional: it applies to what is stored now.
    const patchRv = (parse(body) as any)?.metadata?.resourceVersion;
    if (!patchRv) patched.metadata = { ...patched.metadata, resourceVersion: current.metadata.resourceVersion };
    return sendJson(res, 200, replace(store, type, namespace, name, patched, statusOnly));
  }
  if (method === 'DELETE') {
    const options = body.length > 0 ? (parse(body) as any) : {};
    return sendJson(res, 200, remove(store, type, namespace, name, options, q));
  }
  throw methodNotAllowed();
}

function parse(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8') || 'null');
  } catch (err) {
    throw badRequest(`the body of the request could not be decoded as JSON: ${(err as Error).message}`);
  }
}

function checkKind(type: ResourceType, obj: any): void {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw badRequest(`the body must be a ${type.kind} object`);
  if (obj.kind !== undefined && obj.kind !== type.kind) throw badRequest(`the kind of the provided object (${obj.kind}) does not match the kind of the request (${type.kind})`);
  if (obj.apiVersion !== undefined && obj.apiVersion !== apiVersionOf(type)) throw badRequest(`the API version of the provided object (${obj.apiVersion}) does not match the request (${apiVersionOf(type)})`);
  obj.metadata ??= {};
}

function create(store: Store, type: ResourceType, namespace: string | undefined, obj: any): any {
  checkKind(type, obj);
  if (namespace) {
    if (obj.metadata.namespace && obj.metadata.namespace !== namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    obj.metadata.namespace = namespace;
  }
  if (!obj.metadata.name && obj.metadata.generateName) obj.metadata.name = `${obj.metadata.generateName}${randomBytes(3).toString('hex').slice(0, 5)}`;
  delete obj.metadata.resourceVersion;
  applyDefaults(type.plural, obj);
  if (HAS_STATUS.has(type.plural)) obj.status = type.plural === 'namespaces' ? { phase: 'Active' } : type.plural === 'pods' ? { phase: 'Pending' } : {};
  validateObject(type, obj);
  return store.create(type.plural, obj);
}

function replace(store: Store, type: ResourceType, namespace: string | undefined, name: string, obj: any, statusOnly: boolean): any {
  checkKind(type, obj);
  if (obj.metadata.name !== undefined && obj.metadata.name !== name) throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
  if (namespace && obj.metadata.namespace && obj.metadata.namespace !== namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  const current = store.mustGet(type.plural, namespace, name);
  let next: any;
  if (statusOnly) next = { ...current, status: obj.status };
  else {
    next = { ...obj, metadata: { ...obj.metadata, name, ...(namespace ? { namespace } : {}) } };
    if (HAS_STATUS.has(type.plural)) next.status = current.status;
    applyDefaults(type.plural, next);
  }
  validateObject(type, next, current);
  return store.update(type.plural, next, obj.metadata.resourceVersion);
}

/**
 * Deletes as the API server does: a pod that has a container is marked (deletionTimestamp)
 * and the kubelet finishes the deletion once the container is stopped; a namespace takes
 * everything in it along; owned objects go with their owner (the garbage collector's
 * background propagation).
 */
function remove(store: Store, type: ResourceType, namespace: string | undefined, name: string, options: any, q: URLSearchParams): any {
  const current = store.mustGet(type.plural, namespace, name);
  const pre = options?.preconditions ?? {};
  if ((pre.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion) || (pre.uid && pre.uid !== current.metadata.uid)) throw conflict(type, name);
  const grace = q.get('gracePeriodSeconds') ?? options?.gracePeriodSeconds;
  if (type.plural === 'pods' && !(grace !== undefined && Number(grace) === 0)) {
    if (current.metadata.deletionTimestamp) return current;
    current.metadata.deletionTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    current.metadata.deletionGracePeriodSeconds = Number(grace ?? current.spec?.terminationGracePeriodSeconds ?? 30);
    return store.update('pods', current);
  }
  if (type.plural === 'namespaces') {
    for (const plural of ['deployments', 'pods', 'services', 'endpointslices', 'secrets', 'configmaps']) {
      for (const o of store.list(plural, name)) {
        try {
          store.remove(plural, name, o.metadata.name);
        } catch (err) {
          if (!(err instanceof KubeError && err.code === 404)) throw err;
        }
      }
    }
  }
  const last = store.remove(type.plural, namespace, name);
  removeOwned(store, last.metadata.uid);
  if (type.plural === 'pods' || type.plural === 'namespaces' || type.plural === 'services') return last;
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { name, ...(type.group ? { group: type.group } : {}), kind: type.plural, uid: last.metadata.uid },
  };
}

/** The garbage collector: objects whose ownerReferences name a deleted uid go too. */
export function removeOwned(store: Store, uid: string): void {
  for (const plural of ['pods', 'endpointslices']) {
    for (const o of store.list(plural)) {
      if (!(o.metadata.ownerReferences ?? []).some((ref: any) => ref.uid === uid)) continue;
      if (plural === 'pods') {
        if (!o.metadata.deletionTimestamp) {
          o.metadata.deletionTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
          o.metadata.deletionGracePeriodSeconds = o.spec?.terminationGracePeriodSeconds ?? 30;
          store.update('pods', o);
        }
      } else store.remove(plural, o.metadata.namespace, o.metadata.name);
    }
  }
}
