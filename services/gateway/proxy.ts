// /function/{name}[.{namespace}][/{path}]: streams a call to one ready replica of the
// function, round robin, through a keep-alive pool per replica. Works on node's raw request
// and response: nothing is buffered, and the hot path allocates little.
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import type { Logger } from '../../shared/logger.js';
import type { Invocations } from './invocations.js';
import type { Endpoint, Provider } from './providers/provider.js';
import type { Upstream, Upstreams } from './upstreams.js';

export interface ProxyOptions {
  provider: Provider;
  upstreams: Upstreams;
  invocations: Invocations;
  defaultNamespace: string;
  timeoutMs: number;
  log: Logger;
}

/** The /function/* handler; `forward` calls a function already resolved (owner subdomains, custom domains). */
export interface ProxyHandler {
  (req: IncomingMessage, res: ServerResponse): void;
  forward(req: IncomingMessage, res: ServerResponse, name: string, namespace: string, path: string): void;
}

export const FUNCTION_PREFIX = '/function/';

/** Headers that describe one connection, not the message: never forwarded (RFC 9110 7.6.1). */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
  'host',
]);

/** Connection errors after which nothing reached the replica, so another may be tried. */
const RETRYABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'EPIPE']);

export function createProxy(opts: ProxyOptions): ProxyHandler {
  const { provider, upstreams, invocations, defaultNamespace, timeoutMs, log } = opts;
  const cursors = new Map<string, number>();
  const timeoutSeconds = timeoutMs / 1000;

  const proxy = function proxy(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    let end = FUNCTION_PREFIX.length;
    while (end < url.length && url.charCodeAt(end) !== 47 /* / */ && url.charCodeAt(end) !== 63 /* ? */) end++;
    const ref = url.slice(FUNCTION_PREFIX.length, end);
    const dot = ref.indexOf('.');
    const name = dot === -1 ? ref : ref.slice(0, dot);
    const namespace = dot === -1 ? defaultNamespace : ref.slice(dot + 1);
    const path = end === url.length ? '/' : url.charCodeAt(end) === 63 ? `/${url.slice(end)}` : url.slice(end);
    forward(req, res, name, namespace, path);
  } as ProxyHandler;
  proxy.forward = forward;
  return proxy;

  function forward(req: IncomingMessage, res: ServerResponse, name: string, namespace: string, path: string): void {
    const fn = `${name}.${namespace}`;
    const endpoints = name ? provider.endpoints(name, namespace) : undefined;
    if (endpoints === undefined) return plain(res, 404, `function "${name}" not found in namespace "${namespace}"\n`);
    if (endpoints.length === 0) {
      invocations.count(fn, 503);
      return plain(res, 503, `function "${fn}" has no ready replica (scaled to zero, starting, or restarting); try again shortly\n`);
    }

    const callId = (req.headers['x-call-id'] as string | undefined) || randomUUID();
    const started = Date.now();
    const headers = forwardHeaders(req, callId, started);
    const hasBody = req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined;
    // A pass-through body: on failure undici destroys it, not the client's request, so the
    // client still gets an explanatory answer.
    const body = hasBody ? req.pipe(new PassThrough()) : null;

    // A client that goes away cancels the call to the function, whatever stage it is at.
    const abort = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) abort.abort();
    });

    const cursor = cursors.get(fn) ?? 0;
    cursors.set(fn, cursor + 1);
    let attempt = 0;

    const send = (endpoint: Endpoint): void => {
      const upstream: Upstream = upstreams.get(endpoint);
      upstream.inFlight++;
      upstream.used = true;
      upstream.pool
        .stream({ path, method: req.method as 'GET', headers, body, opaque: res, signal: abort.signal }, ({ statusCode, headers: resHeaders, opaque }) => {
          const out = opaque as ServerResponse;
          invocations.count(fn, statusCode);
          writeHead(out, statusCode, resHeaders as IncomingHttpHeaders, callId, started);
          return out;
        })
        .then(
          () => {
            upstream.inFlight--;
          },
          (err: NodeJS.ErrnoException) => {
            upstream.inFlight--;
            if (res.headersSent) {
              res.destroy(err);
              return;
            }
            attempt++;
            // At least one retry, so a kept-alive connection the replica just closed is not a 502.
            if (!hasBody && RETRYABLE.has(err.code ?? '') && attempt < Math.max(2, endpoints.length)) {
              const next = provider.endpoints(name, namespace);
              if (next && next.length) return send(next[(cursor + attempt) % next.length]);
            }
            if (err.code === 'UND_ERR_HEADERS_TIMEOUT') {
              invocations.count(fn, 504);
              return plain(res, 504, `function "${fn}" did not answer within ${timeoutSeconds} s\n`);
            }
            if (res.destroyed) return; // the client went away
            log.warn({ fn, callId, err: { code: err.code, message: err.message } }, 'function call failed');
            invocations.count(fn, 502);
            plain(res, 502, `function "${fn}": its replica did not answer (${err.code ?? err.message})\n`);
          },
        );
    };
    send(endpoints[cursor % endpoints.length]);
  }
}

function forwardHeaders(req: IncomingMessage, callId: string, started: number): Record<string, string | string[]> {
  const source = req.headers;
  const listed = source.connection ? connectionTokens(source.connection) : undefined;
  const out: Record<string, string | string[]> = {};
  for (const key in source) {
    if (HOP_BY_HOP.has(key) || listed?.has(key)) continue;
    const value = source[key];
    if (value !== undefined) out[key] = value;
  }
  const client = req.socket.remoteAddress ?? '';
  const forwarded = source['x-forwarded-for'];
  out['x-forwarded-for'] = forwarded ? `${forwarded}, ${client}` : client;
  if (!source['x-forwarded-host'] && source.host) out['x-forwarded-host'] = source.host;
  out['x-call-id'] = callId;
  out['x-start-time'] = `${started}000000`;
  return out;
}

function connectionTokens(value: string): Set<string> {
  return new Set(value.split(',').map((t) => t.trim().toLowerCase()));
}

function writeHead(res: ServerResponse, status: number, headers: IncomingHttpHeaders, callId: string, started: number): void {
  const listed = headers.connection ? connectionTokens(headers.connection as string) : undefined;
  for (const key in headers) {
    if (HOP_BY_HOP.has(key) || listed?.has(key)) continue;
    const value = headers[key];
    if (value !== undefined) res.setHeader(key, value);
  }
  res.setHeader('x-call-id', callId);
  res.setHeader('x-duration-seconds', ((Date.now() - started) / 1000).toFixed(3));
  res.writeHead(status);
}

function plain(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
