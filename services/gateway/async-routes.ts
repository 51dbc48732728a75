// POST /async-function/{name}[.{namespace}][/{path}]: checks the function exists, reads
// the body (within the limit), stores the call in JetStream and answers 202 with
// X-Call-Id only once JetStream has acknowledged it. NATS down or the stream full: 503,
// never a 202 for work that was not stored.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { HttpBindings } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import type { JetStreamClient, NatsConnection } from 'nats';
import type { AsyncCall, HeaderPairs } from '../../shared/async-message.js';
import { CALL_ID, publishCall } from '../../shared/async-message.js';
import type { NatsLink } from '../../shared/async-nats.js';
import type { Logger } from '../../shared/logger.js';
import { malformedCallbackUrl, refusedCallbackUrl } from '../../shared/callback-policy.js';
import { isDnsLabel } from '../../shared/names.js';
import type { AsyncGatewaySettings } from './async-config.js';
import type { Provider } from './providers/provider.js';
import { HOP_BY_HOP } from './proxy-headers.js';

export const ASYNC_PREFIX = '/async-function/';

/** Not kept with the call: they describe this hop, or travel separately (call id, callback). */
const DROPPED = new Set([...HOP_BY_HOP, 'content-length', 'x-call-id', 'x-callback-url']);

/** Room kept under NATS max_payload for the call's headers. */
const HEADER_ROOM = 64 * 1024;

export interface AsyncRouteOptions {
  provider: Provider;
  link: NatsLink;
  settings: AsyncGatewaySettings;
  defaultNamespace: string;
  log: Logger;
}

class BodyTooLarge extends Error {}

/** A request header straight from node's parsed headers (cheaper than building a fetch Request). */
function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** One JetStream client per connection, not one per request. */
const clients = new WeakMap<NatsConnection, JetStreamClient>();
function jetstream(nc: NatsConnection): JetStreamClient {
  let js = clients.get(nc);
  if (!js) clients.set(nc, (js = nc.jetstream()));
  return js;
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

function keptHeaders(req: IncomingMessage): HeaderPairs {
  const out: HeaderPairs = [];
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (!DROPPED.has(raw[i].toLowerCase())) out.push([raw[i], raw[i + 1]]);
  }
  return out;
}


export function asyncRoutes(opts: AsyncRouteOptions): Hono<{ Bindings: HttpBindings }> {
  const { provider, link, settings, log } = opts;
  const app = new Hono<{ Bindings: HttpBindings }>();

  const enqueue = async (c: Context<{ Bindings: HttpBindings }>) => {
    const req = c.env.incoming;
    const url = req.url ?? c.req.path;
    // Split {ref}[/{path}][?{query}] by hand: the sub-path and query are kept byte for byte.
    let end = ASYNC_PREFIX.length;
    while (end < url.length && url.charCodeAt(end) !== 47 && url.charCodeAt(end) !== 63) end++;
    const ref = url.slice(ASYNC_PREFIX.length, end);
    const q = url.indexOf('?', end);
    const path = q === -1 ? url.slice(end) : url.slice(end, q);
    const query = q === -1 ? '' : url.slice(q + 1);
    const dot = ref.indexOf('.');
    const name = dot === -1 ? ref : ref.slice(0, dot);
    const namespace = dot === -1 ? opts.defaultNamespace : ref.slice(dot + 1);

    if (!isDnsLabel(name) || !isDnsLabel(namespace)) {
      return c.text(`function "${name}" not found in namespace "${namespace}"\n`, 404);
    }
    const callbackUrl = header(req, 'x-callback-url');
    if (callbackUrl !== undefined) {
      // What is knowable now; the worker checks the resolved addresses when it connects.
      if (malformedCallbackUrl(callbackUrl)) {
        return c.text(`X-Callback-Url must be an absolute http:// or https:// URL, got "${callbackUrl.slice(0, 200)}"\n`, 400);
      }
      const refused = refusedCallbackUrl(settings.callbackPolicy, callbackUrl);
      if (refused) return c.text(`X-Callback-Url "${callbackUrl.slice(0, 200)}" is refused: ${refused}\n`, 400);
    }
    const given = header(req, 'x-call-id');
    if (given !== undefined && !CALL_ID.test(given)) {
      return c.text('X-Call-Id must be 1-128 characters of letters, digits and . _ : @ + = -\n', 400);
    }
    const limit = settings.maxBodyBytes;
    const length = Number(req.headers['content-length'] ?? 0);
    if (length > limit) {
      req.resume();
      return c.text(`request body of ${length} bytes is over the async limit of ${limit} bytes (GITFAAS_ASYNC_MAX_BODY_BYTES)\n`, 413);
    }
    const known = provider.endpoints(name, namespace) !== undefined || (await provider.get(name, namespace)) !== undefined;
    if (!known) {
      req.resume();
      return c.text(`function "${name}" not found in namespace "${namespace}"\n`, 404);
    }
    let body: Buffer;
    try {
      body = await readBody(req, limit);
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        return c.text(`request body is over the async limit of ${limit} bytes (GITFAAS_ASYNC_MAX_BODY_BYTES)\n`, 413);
      }
      throw err;
    }
    const nc = link.connection;
    if (!nc) {
      return c.text('the async queue is unavailable (NATS is not connected); nothing was queued, retry later\n', 503, { 'Retry-After': '1' });
    }
    if (body.length + HEADER_ROOM > nc.info!.max_payload) {
      return c.text(`request body of ${body.length} bytes does not fit in a NATS message (server max_payload ${nc.info!.max_payload})\n`, 413);
    }
    const call: AsyncCall = {
      callId: given ?? randomUUID(),
      name,
      namespace,
      method: req.method ?? 'POST',
      path,
      query,
      headers: keptHeaders(req),
      callbackUrl,
      enqueuedAt: Date.now(),
      body,
    };
    try {
      const ack = await publishCall(jetstream(nc), settings.streams.subject, call, settings.publishTimeoutMs);
      return c.body(null, 202, { 'X-Call-Id': call.callId, ...(ack.duplicate ? { 'X-Duplicate': 'true' } : {}) });
    } catch (err) {
      // JetStream's reason is in api_error (nats.js's own message is only the code).
      const e = err as Error & { api_error?: { description?: string }; chainedError?: Error };
      const message = e.api_error?.description ?? e.chainedError?.message ?? e.message;
      log.warn({ err, callId: call.callId, fn: `${name}.${namespace}` }, 'cannot queue async call');
      const full = /maximum (bytes|messages)|resource limits|insufficient resources/i.test(message);
      return c.text(
        full
          ? 'the async queue is full; nothing was queued, retry later\n'
          : `the async queue did not store the call (${message}); nothing was queued, retry later with the same X-Call-Id\n`,
        503,
        { 'Retry-After': '1', 'X-Call-Id': call.callId },
      );
    }
  };

  app.all('/async-function/*', enqueue);
  return app;
}
