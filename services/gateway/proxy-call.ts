// One call through the proxy, as an undici dispatch handler: the function's answer streams
// straight into node's ServerResponse with backpressure both ways, and the client going away
// aborts the upstream request. No promise, stream wrapper or AbortSignal per call.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Logger } from '../../shared/logger.js';
import type { Endpoint, Provider } from './providers/provider.js';
import { responseHeaders, type ResponseFacts } from './proxy-headers.js';
import type { Upstream, Upstreams } from './upstreams.js';

/** Told about every answered call: invocation counts now, metrics and autoscaler load later. */
export interface CallObserver {
  /**
   * Optional: told once per call to a known function, before it is proxied; `called` follows
   * exactly once (499 when the client went away before an answer). Synchronous and cheap.
   */
  started?(fn: string): void;
  /** `status` is the function's, or the gateway's own 502/503/504; `ms` is the time to the response head. */
  called(fn: string, status: number, ms: number): void;
}

/** What every call of one proxy shares. */
export interface CallContext {
  provider: Provider;
  upstreams: Upstreams;
  observers: readonly CallObserver[];
  timeoutSeconds: number;
  log: Logger;
}

/** Connection errors after which nothing reached the replica, so another may be tried. */
export const RETRYABLE: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'EPIPE']);

class ClientGone extends Error {
  override name = 'ClientGone';
}

/** Tells the observers that have a `started` hook (picked once, at wiring) that a call begins. */
export function observeStart(starters: readonly CallObserver[], fn: string): void {
  for (let i = 0; i < starters.length; i++) starters[i].started!(fn);
}

/** Tells every observer that a call was answered; returns the milliseconds it took, for X-Duration-Seconds. */
export function observe(observers: readonly CallObserver[], fn: string, status: number, started: number): number {
  const ms = Date.now() - started;
  for (let i = 0; i < observers.length; i++) observers[i].called(fn, status, ms);
  return ms;
}

export function plain(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Filled by responseHeaders() and read at once: one object for every call. */
const facts: ResponseFacts = { contentLength: -1 };

export class ProxyCall implements Dispatcher.DispatchHandler {
  private upstream: Upstream | undefined;
  private abortUpstream: ((err: Error) => void) | undefined;
  private resume: (() => void) | undefined;
  private attempt = 0;
  /** True once a 'drain' listener is on the response (only after a write met backpressure). */
  private draining = false;
  /** The replica's Content-Length (-1 without one): a first chunk of that length is the whole body. */
  private contentLength = -1;
  /** Body bytes (or the end) came after the head: node sends the head with them. */
  private bodySeen = false;
  /** The whole body, held from onData to onComplete so the head and body leave in one end(). */
  private whole: Buffer | undefined;
  private readonly body: PassThrough | null;
  private readonly dispatchOptions: Dispatcher.DispatchOptions;

  constructor(
    private readonly ctx: CallContext,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly name: string,
    private readonly namespace: string,
    private readonly fn: string,
    private readonly cursor: number,
    private readonly callId: string,
    private readonly started: number,
    path: string,
    headers: string[],
    hasBody: boolean,
  ) {
    // A pass-through body: on failure undici destroys it, not the client's request, so the
    // client still gets an explanatory answer.
    this.body = hasBody ? req.pipe(new PassThrough()) : null;
    this.dispatchOptions = { path, method: req.method as Dispatcher.HttpMethod, headers, body: this.body };
    // `on`, not `once`: the response is this call's alone, and once() wraps the listener per call.
    res.on('close', this.onClientClose);
  }

  /** A client that goes away cancels the call to the function, whatever stage it is at. */
  private readonly onClientClose = (): void => {
    if (this.res.writableFinished) return;
    this.abortUpstream?.(new ClientGone('the client went away'));
  };

  private readonly onDrain = (): void => this.resume?.();

  send(endpoint: Endpoint): void {
    const upstream = this.ctx.upstreams.get(endpoint);
    this.upstream = upstream;
    upstream.inFlight++;
    upstream.used = true;
    upstream.pool.dispatch(this.dispatchOptions, this);
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortUpstream = abort;
    if (this.res.destroyed && !this.res.writableFinished) abort(new ClientGone('the client went away'));
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true; // informational answers stay between the gateway and the replica
    this.resume = resume;
    const res = this.res;
    const ms = observe(this.ctx.observers, this.fn, statusCode, this.started);
    res.writeHead(statusCode, responseHeaders(rawHeaders, this.callId, ms, facts));
    this.contentLength = facts.contentLength;
    // node holds a head until the first body write: one the replica sent alone (a stream that
    // starts later) leaves once this read is done, with no body bytes behind it.
    queueMicrotask(this.flushHead);
    return true;
  }

  private readonly flushHead = (): void => {
    // headersSent is true as soon as writeHead ran, so the read's own progress decides.
    if (!this.bodySeen && !this.res.destroyed && !this.res.writableEnded) this.res.flushHeaders();
  };

  onData(chunk: Buffer): boolean {
    this.bodySeen = true;
    // The whole body in its first chunk (most answers): undici's parser completes the message in
    // the same pass, so holding it until onComplete delays nothing, and end(chunk) writes head
    // and body at once without write()'s cork-until-next-tick. Anything else streams as it comes.
    if (chunk.length === this.contentLength && this.whole === undefined) {
      this.whole = chunk;
      this.contentLength = -1;
      return true;
    }
    if (this.whole !== undefined) {
      // Never the case with a Content-Length the parser holds to; kept so no byte is ever lost.
      this.res.write(this.whole);
      this.whole = undefined;
    }
    if (this.res.write(chunk)) return true;
    if (!this.draining) {
      this.draining = true;
      this.res.on('drain', this.onDrain);
    }
    return false;
  }

  onComplete(trailers: string[] | Buffer[] | null): void {
    this.bodySeen = true;
    this.finish();
    if (trailers && trailers.length) {
      const out: Record<string, string> = {};
      for (let i = 0; i < trailers.length; i += 2) out[trailers[i].toString('latin1')] = trailers[i + 1].toString('latin1');
      this.res.addTrailers(out);
    }
    const whole = this.whole;
    this.whole = undefined;
    if (whole !== undefined) this.res.end(whole);
    else this.res.end();
  }

  onError(err: Error & { code?: string }): void {
    this.finish();
    const { res, fn } = this;
    if (res.headersSent) {
      res.destroy(err);
      return;
    }
    if (err instanceof ClientGone || res.destroyed) {
      // Nobody to answer; observers still hear the call ended (nginx's "client closed request").
      observe(this.ctx.observers, fn, 499, this.started);
      return;
    }
    this.attempt++;
    // At least one retry, so a kept-alive connection the replica just closed is not a 502.
    if (this.body === null && RETRYABLE.has(err.code ?? '')) {
      const next = this.ctx.provider.endpoints(this.name, this.namespace);
      if (next && next.length && this.attempt < Math.max(2, next.length)) return this.send(next[(this.cursor + this.attempt) % next.length]);
    }
    if (err.code === 'UND_ERR_HEADERS_TIMEOUT') {
      observe(this.ctx.observers, fn, 504, this.started);
      return plain(res, 504, `function "${fn}" did not answer within ${this.ctx.timeoutSeconds} s\n`);
    }
    this.ctx.log.warn({ fn, callId: this.callId, err: { code: err.code, message: err.message } }, 'function call failed');
    observe(this.ctx.observers, fn, 502, this.started);
    plain(res, 502, `function "${fn}": its replica did not answer (${err.code ?? err.message})\n`);
  }

  private finish(): void {
    if (this.upstream) this.upstream.inFlight--;
    this.upstream = undefined;
    this.abortUpstream = undefined;
    if (this.draining) this.res.off('drain', this.onDrain);
    this.draining = false;
  }
}
