// /function/{name}[.{namespace}][/{path}]: streams a call to one ready replica of the
// function, round robin, through a keep-alive pool per replica. Works on node's raw request
// and response: nothing is buffered, and the hot path allocates little (see proxy-call.ts).
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../shared/logger.js';
import { observe, observeStart, plain, ProxyCall, type CallContext, type CallObserver } from './proxy-call.js';
import { forwardHeaders, type RequestFacts } from './proxy-headers.js';
import type { Endpoint, Provider } from './providers/provider.js';
import { awaitReplica, DesiredReplicas, scaledToZero } from './proxy-wait.js';
import type { Upstreams } from './upstreams.js';
import type { Waker } from './zero/waker.js';

export type { CallObserver } from './proxy-call.js';

export interface ProxyOptions {
  provider: Provider;
  upstreams: Upstreams;
  /** Told about every answered call (invocation counts, metrics), in this order. */
  observers: readonly CallObserver[];
  defaultNamespace: string;
  timeoutMs: number;
  log: Logger;
  /** Holds calls to a function with no ready replica (at zero: wakes it); without it they get 503. */
  waker?: Waker;
}

/** The /function/* handler; `forward` calls a function already resolved (owner subdomains, custom domains). */
export interface ProxyHandler {
  (req: IncomingMessage, res: ServerResponse): void;
  forward(req: IncomingMessage, res: ServerResponse, name: string, namespace: string, path: string): void;
  /** Every call's observers, in order (the fast plane tells the same ones). */
  readonly observers: readonly CallObserver[];
  /** The round-robin position for a call to `fn` (counts it): the fast plane shares it with this handler. */
  next(fn: string): number;
  /** Stops following the provider's change feed. */
  close(): void;
}

export const FUNCTION_PREFIX = '/function/';

/** "/function/{ref}[/{path}][?{query}]" into the function's reference and the path (with query) the replica gets. */
export function splitFunctionUrl(url: string): { ref: string; path: string } {
  const start = FUNCTION_PREFIX.length;
  const slash = url.indexOf('/', start);
  const query = url.indexOf('?', start);
  // The reference ends at the first "/" or "?", whichever comes first.
  const end = slash !== -1 && (query === -1 || slash < query) ? slash : query !== -1 ? query : url.length;
  const ref = url.slice(start, end);
  const path = end === url.length ? '/' : end === query ? `/${url.slice(end)}` : url.slice(end);
  return { ref, path };
}

/** A call's function and the path (with query) its replica gets. */
export interface FunctionTarget {
  name: string;
  namespace: string;
  /** Every observer's key: "name.namespace", or the reference as the caller wrote it. */
  fn: string;
  path: string;
}

/** The function a "/function/{ref}[/{path}][?{query}]" URL calls ("name" is in `defaultNamespace`). */
export function functionTarget(url: string, defaultNamespace: string): FunctionTarget {
  const { ref, path } = splitFunctionUrl(url);
  const dot = ref.indexOf('.');
  if (dot === -1) return { name: ref, namespace: defaultNamespace, fn: `${ref}.${defaultNamespace}`, path };
  return { name: ref.slice(0, dot), namespace: ref.slice(dot + 1), fn: ref, path };
}

export function createProxy(opts: ProxyOptions): ProxyHandler {
  const { provider, defaultNamespace } = opts;
  const ctx: CallContext = { provider, upstreams: opts.upstreams, observers: opts.observers, timeoutSeconds: opts.timeoutMs / 1000, log: opts.log };
  const starters = opts.observers.filter((o) => o.started !== undefined);
  const cursors = new Map<string, number>();
  const facts: RequestFacts = { callId: undefined, hasBody: false };
  const desired = new DesiredReplicas(provider);
  const waitCtx = { ...ctx, feed: provider, timeoutMs: opts.timeoutMs };

  const proxy = function proxy(req: IncomingMessage, res: ServerResponse): void {
    const target = functionTarget(req.url ?? '/', defaultNamespace);
    forward(req, res, target.name, target.namespace, target.path, target.fn);
  } as ProxyHandler;
  proxy.forward = forward;
  proxy.next = next;
  (proxy as { observers: readonly CallObserver[] }).observers = opts.observers;
  proxy.close = desired.stop;
  return proxy;

  function forward(req: IncomingMessage, res: ServerResponse, name: string, namespace: string, path: string, fn = `${name}.${namespace}`): void {
    const started = Date.now();
    const endpoints = name ? provider.endpoints(name, namespace) : undefined;
    if (endpoints === undefined) return plain(res, 404, `function "${name}" not found in namespace "${namespace}"\n`);
    observeStart(starters, fn);
    if (endpoints.length === 0) {
      // A function being woken stays with the waker, so its queue limit holds for the whole wake.
      if (desired.of(fn) === 0 || opts.waker?.isWaking(fn)) return hold(req, res, name, namespace, fn, path, started);
      return awaitReplica(waitCtx, req, res, name, namespace, fn, started, (ready) => send(req, res, name, namespace, fn, path, started, ready));
    }
    send(req, res, name, namespace, fn, path, started, endpoints);
  }

  function next(fn: string): number {
    const cursor = cursors.get(fn) ?? 0;
    cursors.set(fn, cursor + 1);
    return cursor;
  }

  function send(req: IncomingMessage, res: ServerResponse, name: string, namespace: string, fn: string, path: string, started: number, endpoints: readonly Endpoint[]): void {
    // `facts` is filled and read synchronously: one object for all calls.
    const headers = forwardHeaders(req, randomUUID, started, facts);
    const cursor = next(fn);
    const call = new ProxyCall(ctx, req, res, name, namespace, fn, cursor, facts.callId!, started, path, headers, facts.hasBody);
    call.send(endpoints[cursor % endpoints.length]);
  }

  function hold(req: IncomingMessage, res: ServerResponse, name: string, namespace: string, fn: string, path: string, started: number): void {
    const refuse = (status: number, text: string, retryAfterSeconds?: number): void => {
      observe(ctx.observers, fn, status, started);
      if (status === 499 || res.headersSent) return;
      if (retryAfterSeconds !== undefined) res.setHeader('retry-after', String(retryAfterSeconds));
      plain(res, status, text);
    };
    if (opts.waker === undefined) return scaledToZero(ctx, res, fn, started);
    // Whatever the caller sends waits in the socket (backpressure) until a replica is there.
    req.pause();
    opts.waker.hold({ name, namespace, fn, res, refuse, resume: (endpoints) => send(req, res, name, namespace, fn, path, started, endpoints) });
  }
}
