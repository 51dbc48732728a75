// The fast plane: the gateway's data path for the common call, below node's http module.
// Every connection the gateway accepts starts here. A request whose head arrives whole in
// one read, is HTTP/1.1 GET/POST/PUT/PATCH/DELETE/OPTIONS with a Content-Length or no body
// (no Transfer-Encoding, Expect or Upgrade), and goes to a function with a ready replica is
// proxied on raw sockets (raw-stream.ts: no node streams, one shared read buffer). Plain
// heads are read by head-scan.ts and their kept lines forwarded as they came; any other head
// goes to node's own llhttp binding, which validates and frames it, and is rebuilt with the
// proxy's headers (proxy-headers.ts); the same on the answer's side. Bodies pass as they come,
// with backpressure both ways, over a kept-alive connection to the replica. Anything else (the API, a split or odd head, a function at zero
// or unknown, a parse error) hands the connection, with every byte of its current request, to
// node's http server at a request boundary, and it stays there: the API and every rule of
// the slower path are node's, and its answers are the same. Calls here tell the same
// observers, count in the same Upstreams, and keep the same timeouts, retries, X-Call-Id and
// X-Forwarded-* as proxy.ts; docs/performance.md has the measurements that made it worth it.
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type Server } from 'node:http';
import { createRequire } from 'node:module';
import net, { type Socket } from 'node:net';
import { getSystemErrorName } from 'node:util';
import { observe, observeStart, RETRYABLE, type CallContext, type CallObserver } from './proxy-call.js';
import { keptLines, scanRequest, scanResponse, type RequestScan, type ResponseScan } from './head-scan.js';
import { durationSeconds, forwardHeaderList, responseHeaderList, startTime, type RequestFacts, type ResponseFacts } from './proxy-headers.js';
import type { Endpoint } from './providers/provider.js';
import type { FunctionTarget } from './proxy.js';
import { RawStream, type RawSink } from './raw-stream.js';
import type { Upstream } from './upstreams.js';

interface Parser {
  initialize(type: number, resource: object, maxHeaderSize?: number, lenient?: number): void;
  execute(data: Buffer): number | Error;
  finish(): number | Error | undefined;
  close(): void;
  [callback: number]: (...args: any[]) => unknown;
}

// node's binding of llhttp, the parser its http module uses (no typings: it is internal, and
// test/fast-plane tests fail loudly if it ever changes shape).
const { HTTPParser, methods } = createRequire(import.meta.url)('_http_common') as {
  HTTPParser: {
    new (): Parser;
    REQUEST: number;
    RESPONSE: number;
    kOnHeaders: number;
    kOnHeadersComplete: number;
    kOnBody: number;
    kOnMessageComplete: number;
    kLenientOptionalCRBeforeLF: number;
  };
  methods: string[];
};
const { kOnHeaders, kOnHeadersComplete, kOnBody, kOnMessageComplete } = HTTPParser;

export interface FastPlaneOptions {
  ctx: CallContext;
  /** The route of a call to a function, decided as the slower path decides it; undefined leaves the request to node. */
  route(host: string | undefined, forwardedHost: string | undefined, url: string): FunctionTarget | undefined;
  /** The round-robin position for a call to `fn` (shared with proxy.ts). */
  next(fn: string): number;
  /** How long a client connection may sit idle between requests (node's keepAliveTimeout). */
  idleTimeoutMs: number;
}

export interface FastPlane {
  /** Connections served here and now not proxying a call (to end at stop). */
  closeIdle(): void;
  closeAll(): void;
  /** From now on every connection closes after its call. */
  stopping(): void;
  /** Calls proxied here, and connections handed to node, since the start (for tests and benches). */
  readonly counts: { calls: number; handedOff: number };
}

const HEAD_END = Buffer.from('\r\n\r\n');
/** Longer heads go to llhttp (and its size limit). */
const MAX_SCANNED_HEAD = 8 * 1024;
const NO_TRAILERS: string[] = [];
const FAST_METHODS: ReadonlySet<string> = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
/** How long a kept-alive connection to a replica may sit idle (undici's keepAliveTimeout in upstreams.ts). */
const UPSTREAM_IDLE_MS = 30_000;
const noop = (): void => undefined;

let dateSecond = -1;
let dateLine = '';
/** The Date header line for now; made once a second. */
function dateHeader(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateLine = `date: ${new Date(second * 1000).toUTCString()}\r\n`;
  }
  return dateLine;
}

/** "name: value\r\n" for each pair of a flat list. */
function lines(list: readonly string[]): string {
  let out = '';
  for (let i = 0; i < list.length; i += 2) out += `${list[i]}: ${list[i + 1]}\r\n`;
  return out;
}

/** Takes over `server`'s connections (see the top of this file); node's own listener gets the ones handed off. */
export function attachFastPlane(server: Server, opts: FastPlaneOptions): FastPlane {
  const nodeListener = server.listeners('connection')[0] as (socket: Socket) => void;
  if (typeof nodeListener !== 'function') throw new Error('fast plane: the http server has no connection listener to hand requests to');
  server.removeListener('connection', nodeListener);
  const plane = new Plane(opts, (socket) => nodeListener.call(server, socket));
  server.on('connection', (socket: Socket) => plane.accept(socket));
  server.once('close', () => plane.closeAll());
  return plane;
}

/**
 * Every read from a client or a replica lands here (raw-stream.ts): what outlives the read is
 * copied out (llhttp copies bodies and header strings; held bytes and request bodies are copied
 * below).
 */
const reads = Buffer.allocUnsafe(64 * 1024);

class Plane implements FastPlane {
  readonly clients = new Set<ClientConn>();
  readonly upstreamConns = new Set<UpstreamConn>();
  readonly starters: readonly CallObserver[];
  readonly timeoutMs: number;
  closing = false;
  readonly counts = { calls: 0, handedOff: 0 };
  /**
   * Ends idle connections and calls past the function timeout: no timer per socket or call,
   * one sweep a second (a quarter of the timeout when that is shorter).
   */
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    readonly opts: FastPlaneOptions,
    readonly handToNode: (socket: Socket) => void,
  ) {
    this.starters = opts.ctx.observers.filter((o) => o.started !== undefined);
    this.timeoutMs = opts.ctx.timeoutSeconds * 1000;
    this.sweeper = setInterval(() => this.sweep(Date.now()), Math.max(20, Math.min(1000, this.timeoutMs / 4))).unref();
  }

  accept(socket: Socket): void {
    if (this.closing) return this.handToNode(socket);
    // What node's own listener would do first (http.Server's noDelay default): no Nagle delay on answers.
    socket.setNoDelay(true);
    this.clients.add(new ClientConn(this, socket));
  }

  private sweep(now: number): void {
    for (const client of this.clients) {
      if (client.call !== undefined) client.call.sweep(now);
      else if (client.idleSince !== 0 && now - client.idleSince >= this.opts.idleTimeoutMs) client.socket.destroy();
    }
    for (const conn of this.upstreamConns) if (conn.idleSince !== 0 && now - conn.idleSince >= UPSTREAM_IDLE_MS) conn.destroy();
  }

  closeIdle(): void {
    for (const client of this.clients) if (client.call === undefined) client.socket.destroy();
  }

  closeAll(): void {
    clearInterval(this.sweeper);
    for (const client of this.clients) client.socket.destroy();
  }

  stopping(): void {
    this.closing = true;
  }
}

/** Filled by the header copies and read at once: one object each for every call. */
const requestFacts: RequestFacts = { callId: undefined, hasBody: false };
const responseFacts: ResponseFacts = { contentLength: -1 };

/** One client connection while the fast plane serves it: one request at a time. */
class ClientConn implements RawSink {
  readonly parser = new HTTPParser();
  readonly raw: RawStream;
  call: FastCall | undefined;
  /** When the connection last became idle (no call, nothing held); 0 while it is not. */
  idleSince = Date.now();
  /** Bytes of the next request(s), read while a call was in flight; reading is paused meanwhile. */
  private pending: Buffer | undefined;
  /** Body bytes of the current request the client has still to send. */
  bodyLeft = 0;
  /** The replica connection whose drain reading from the client waits for. */
  private waiting: UpstreamConn | undefined;
  /** This side is closing: whatever the client still sends is dropped. */
  private over = false;
  // The head just parsed (kOnHeadersComplete).
  private major = 0;
  private minor = 0;
  private headers: string[] | undefined;
  private method = -1;
  private url = '';
  private upgrade = false;
  keepAlive = true;
  /** More than 32 header lines: llhttp handed them over in parts; node's path takes these. */
  private split = false;
  /** The current request went through llhttp (head-scan.ts did not take it). */
  private viaParser = false;
  private remote: string | undefined;

  constructor(
    readonly plane: Plane,
    readonly socket: Socket,
  ) {
    const parser = this.parser;
    parser.initialize(HTTPParser.REQUEST, {}, 0, 0);
    parser[kOnHeaders] = () => {
      this.split = true;
    };
    parser[kOnHeadersComplete] = (major: number, minor: number, headers: string[] | undefined, method: number, url: string, _s: unknown, _r: unknown, upgrade: boolean, keepAlive: boolean) => {
      this.major = major;
      this.minor = minor;
      this.headers = headers;
      this.method = method;
      this.url = url;
      this.upgrade = upgrade;
      this.keepAlive = keepAlive;
      return 0;
    };
    // No kOnBody or kOnMessageComplete: llhttp's binding then neither copies bodies nor calls into JS for them.
    this.raw = new RawStream(socket, this, reads);
    socket.on('close', this.onClose);
    socket.on('error', noop);
  }

  get remoteAddress(): string {
    return (this.remote ??= this.socket.remoteAddress ?? '');
  }

  onRead(chunk: Buffer): void {
    if (this.over) return;
    if (this.call !== undefined || this.pending !== undefined) this.more(chunk);
    else this.start(chunk);
  }

  /** The client ended its side: as node's http server does (httpAllowHalfOpen off), a call in flight is cancelled. */
  onEnd(): void {
    this.socket.destroy();
  }

  onError(): void {
    this.socket.destroy();
  }

  /** What was written to the client has all left: a replica paused for it may read again. */
  onDrain(): void {
    this.call?.clientDrained();
  }

  /** Bytes while a call is in flight: the rest of its body, then the next request (held). */
  private more(chunk: Buffer): void {
    if (this.bodyLeft > 0) {
      const part = chunk.length <= this.bodyLeft ? chunk : chunk.subarray(0, this.bodyLeft);
      this.bodyLeft -= part.length;
      if (this.viaParser) this.parser.execute(part); // keeps llhttp at the message boundary; a counted body cannot fail it
      // A copy: the read buffer is reused, and a write that waits keeps pointing at its bytes.
      this.call?.body(Buffer.from(part));
      if (part.length === chunk.length) return;
      chunk = chunk.subarray(part.length);
    }
    this.pending = this.pending === undefined ? Buffer.from(chunk) : Buffer.concat([this.pending, chunk]);
    this.idleSince = 0;
    this.raw.pause();
  }

  /** A new request: proxied here when it is a simple call, else the connection goes to node. */
  private start(chunk: Buffer): void {
    const end = chunk.indexOf(HEAD_END);
    if (end === -1) return this.handOff(chunk);
    const headLength = end + 4;
    const scan = headLength <= MAX_SCANNED_HEAD ? scanRequest(chunk, headLength) : undefined;
    if (scan !== undefined) {
      this.keepAlive = scan.keepAlive;
      return this.proxy(chunk, headLength, scan.method, scan.host, scan.forwardedHost, scan.url, scan.contentLength, scan, undefined);
    }
    this.headers = undefined;
    this.split = false;
    const parsed = this.parser.execute(headLength === chunk.length ? chunk : chunk.subarray(0, headLength));
    const headers = this.headers as string[] | undefined;
    if (typeof parsed !== 'number' || this.split || headers === undefined) return this.handOff(chunk);
    const method = methods[this.method];
    if (this.major !== 1 || this.minor !== 1 || this.upgrade || !FAST_METHODS.has(method)) return this.handOff(chunk);
    let host: string | undefined;
    let forwardedHost: string | undefined;
    let contentLength = 0;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i];
      // Only names of these lengths matter here: most headers cost a length compare.
      switch (name.length) {
        case 4:
          if (host === undefined && name.toLowerCase() === 'host') host = headers[i + 1];
          break;
        case 6:
          if (name.toLowerCase() === 'expect') return this.handOff(chunk);
          break;
        case 14:
          if (name.toLowerCase() === 'content-length') contentLength = Number(headers[i + 1]);
          break;
        case 16:
          if (forwardedHost === undefined && name.toLowerCase() === 'x-forwarded-host') forwardedHost = headers[i + 1];
          break;
        case 17:
          if (name.toLowerCase() === 'transfer-encoding') return this.handOff(chunk);
          break;
      }
    }
    // llhttp checked the digits; a length beyond a safe integer is node's to refuse.
    if (!Number.isSafeInteger(contentLength)) return this.handOff(chunk);
    this.proxy(chunk, headLength, method, host, forwardedHost, this.url, contentLength, undefined, headers);
  }

  /**
   * Proxies the request whose head was read, by head-scan.ts (`scan`: llhttp never sees it nor
   * its body) or by llhttp (`headers`); one that routes to no ready function goes to node.
   */
  private proxy(chunk: Buffer, headLength: number, method: string, host: string | undefined, forwardedHost: string | undefined, url: string, contentLength: number, scan: RequestScan | undefined, headers: string[] | undefined): void {
    // An HTTP/1.1 request without Host is node's 400 (RFC 9112 3.2).
    if (host === undefined) return this.handOff(chunk);
    const { opts } = this.plane;
    const route = opts.route(host, forwardedHost, url);
    const endpoints = route && route.name ? opts.ctx.provider.endpoints(route.name, route.namespace) : undefined;
    if (route === undefined || endpoints === undefined || endpoints.length === 0) return this.handOff(chunk);
    this.viaParser = scan === undefined;
    this.bodyLeft = contentLength;
    this.idleSince = 0;
    this.plane.counts.calls++;
    const call = (this.call = new FastCall(this, route, method));
    if (scan !== undefined) call.forwardScanned(chunk, scan);
    else call.forwardParsed(headers!);
    call.start(endpoints);
    if (chunk.length > headLength) this.more(chunk.subarray(headLength));
  }

  /** Gives the connection to node's http server with the bytes of its current request; it stays there. */
  private handOff(chunk: Buffer): void {
    this.release();
    this.plane.counts.handedOff++;
    const { socket } = this;
    socket.pause();
    socket.unshift(Buffer.from(chunk)); // out of the shared read buffer
    this.plane.handToNode(socket);
    socket.resume();
  }

  /** The call is over (answered, or the client gone): the next request, or the end of the connection. */
  done(): void {
    this.call = undefined;
    this.stopWaiting();
    const { socket } = this;
    if (socket.destroyed) return;
    // A body the function did not wait for would be read as the next request: close instead.
    if (!this.keepAlive || this.bodyLeft > 0 || this.plane.closing) {
      this.over = true;
      socket.end();
      return;
    }
    const pending = this.pending;
    if (pending === undefined) {
      this.idleSince = Date.now();
      return;
    }
    this.pending = undefined;
    // Next tick: the replica connection that just answered is back in its pool by then.
    process.nextTick(() => {
      if (socket.destroyed) return;
      this.raw.resume();
      if (this.call === undefined && this.pending === undefined) this.start(pending);
      else this.more(pending);
    });
  }

  /** A body write to the replica met backpressure: reading from the client waits for its drain. */
  waitFor(upstream: UpstreamConn): void {
    if (this.waiting !== undefined) return;
    this.waiting = upstream;
    this.raw.pause();
  }

  /** The replica took all that was written to it. */
  upstreamDrained(upstream: UpstreamConn): void {
    if (this.waiting !== upstream) return;
    this.waiting = undefined;
    if (this.pending === undefined) this.raw.resume();
  }

  /** The call ended while reading from the client waited for the replica: it waits no more. */
  private stopWaiting(): void {
    if (this.waiting === undefined) return;
    this.waiting = undefined;
    if (this.pending === undefined) this.raw.resume();
  }

  private readonly onClose = (): void => {
    this.call?.clientGone();
    this.release();
  };

  private release(): void {
    const { socket } = this;
    socket.off('close', this.onClose);
    socket.off('error', noop);
    if (!socket.destroyed) this.raw.release();
    if (this.plane.clients.delete(this)) {
      const parser = this.parser;
      // Never inside the parser's own callbacks (node's freeParser waits the same way).
      setImmediate(() => parser.close());
    }
  }
}

/** A kept-alive connection to one replica, with its response parser; carries one call at a time. */
class UpstreamConn implements RawSink {
  readonly socket: Socket;
  private readonly parser = new HTTPParser();
  /** Set once connected; writes before that wait in `early`. */
  private raw: RawStream | undefined;
  private early: Array<Buffer | string> | undefined = [];
  call: FastCall | undefined;
  /** When the connection went back to its pool; 0 while it carries a call. */
  idleSince = 0;
  readonly hostLine: string;
  /** Header lines llhttp handed over in parts (more than 32), then the trailers. */
  private parts: string[] = [];
  private headDone = false;
  /** llhttp is inside an answer: the next bytes are its. */
  private inParser = false;
  /** Body bytes still to come of an answer head-scan.ts took (framed here by its Content-Length). */
  private bodyLeft = 0;

  constructor(
    readonly upstream: Upstream,
    private readonly plane: Plane,
  ) {
    const origin = new URL(upstream.url);
    this.hostLine = `host: ${origin.host}\r\n`;
    this.socket = net.connect({ host: origin.hostname, port: Number(origin.port || 80), noDelay: true });
    const parser = this.parser;
    // Replicas may end lines with a bare LF (RFC 9112 2.2); framing stays strict (lenient-upstream.ts).
    parser.initialize(HTTPParser.RESPONSE, {}, 0, HTTPParser.kLenientOptionalCRBeforeLF);
    parser[kOnHeaders] = (headers: string[]) => {
      for (let i = 0; i < headers.length; i++) this.parts.push(headers[i]);
    };
    parser[kOnHeadersComplete] = (_major: number, _minor: number, headers: string[] | undefined, _m: unknown, _u: unknown, status: number, _r: unknown, _up: unknown, keepAlive: boolean) => {
      const all = headers ?? this.parts;
      this.parts = [];
      if (status >= 200) this.headDone = true;
      if (this.call === undefined) this.destroy();
      else this.call.head(status, all, keepAlive);
      return 0;
    };
    parser[kOnBody] = (chunk: Buffer) => this.call?.bodyOut(chunk);
    parser[kOnMessageComplete] = () => {
      if (!this.headDone) return; // an informational answer: the real one follows
      const trailers = this.parts;
      this.parts = [];
      this.headDone = false;
      this.inParser = false;
      this.call?.complete(trailers);
    };
    plane.upstreamConns.add(this);
    this.socket.once('connect', this.onConnect);
    this.socket.on('error', this.onSocketError);
    this.socket.on('close', this.onClose);
  }

  private readonly onConnect = (): void => {
    this.raw = new RawStream(this.socket, this, reads);
    const early = this.early!;
    this.early = undefined;
    let ok = true;
    for (const data of early) ok = this.raw.write(data);
    if (ok) this.call?.upstreamDrained();
  };

  /** Writes to the replica; false when some of it waits (onDrain follows). */
  write(data: Buffer | string): boolean {
    if (this.raw !== undefined) return this.raw.write(data);
    this.early!.push(data);
    return typeof data === 'string'; // a body waits for the connection like a write that met backpressure
  }

  pause(): void {
    this.raw?.pause();
  }

  resume(): void {
    this.raw?.resume();
  }

  onRead(data: Buffer): void {
    const call = this.call;
    if (call === undefined) {
      this.destroy(); // bytes nobody asked for: the connection cannot be trusted again
      return;
    }
    if (this.bodyLeft > 0) return this.moreBody(call, data);
    if (!this.inParser) {
      const end = data.indexOf(HEAD_END);
      const scan = end !== -1 && end < MAX_SCANNED_HEAD ? scanResponse(data, end + 4) : undefined;
      if (scan !== undefined) {
        const headLength = end + 4;
        call.headScanned(data, scan);
        this.bodyLeft = scan.contentLength;
        if (data.length > headLength) return this.moreBody(call, data.subarray(headLength));
        if (this.bodyLeft === 0) call.complete(NO_TRAILERS);
        else call.afterRead();
        return;
      }
      this.inParser = true;
    }
    const parsed = this.parser.execute(data);
    call.afterRead();
    if (typeof parsed !== 'number') call.upstreamFailed(parsed as Error & { code?: string });
  }

  /** Body bytes of an answer framed here; bytes past its end are a replica gone wrong: the answer ends, the connection closes. */
  private moreBody(call: FastCall, data: Buffer): void {
    const over = data.length > this.bodyLeft;
    const part = over ? data.subarray(0, this.bodyLeft) : data;
    this.bodyLeft -= part.length;
    call.bodyView(part);
    if (over) {
      call.complete(NO_TRAILERS);
      this.destroy();
    } else if (this.bodyLeft === 0) call.complete(NO_TRAILERS);
    else call.afterRead();
  }

  /** The replica closed its side: a body delimited by the close ends here, anything else was cut short. */
  onEnd(): void {
    const call = this.call;
    if (call !== undefined) {
      const finished = this.parser.finish();
      call.afterRead();
      if (finished instanceof Error) this.call?.upstreamFailed(finished as Error & { code?: string });
    }
    if (this.call !== undefined) this.call.upstreamFailed(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }));
    this.destroy();
  }

  onError(errno: number): void {
    this.onSocketError(Object.assign(new Error(`replica connection: ${getSystemErrorName(errno)}`), { code: getSystemErrorName(errno) }));
    this.destroy();
  }

  onDrain(): void {
    this.call?.upstreamDrained();
  }

  private readonly onSocketError = (err: Error & { code?: string }): void => {
    this.call?.upstreamFailed(err);
  };

  private readonly onClose = (): void => {
    this.plane.upstreamConns.delete(this);
    this.leavePool();
    this.call?.upstreamFailed(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }));
    const parser = this.parser;
    setImmediate(() => parser.close());
  };

  /** Back to the replica's pool when the answer left the connection reusable, else closed. */
  release(reusable: boolean): void {
    this.call = undefined;
    if (!reusable || this.socket.destroyed) return this.destroy();
    this.idleSince = Date.now();
    this.upstream.idle.push(this);
  }

  /** Takes the connection out of its pool for `call`. */
  take(call: FastCall): void {
    this.call = call;
    this.idleSince = 0;
  }

  destroy(): void {
    this.call = undefined;
    this.bodyLeft = 0;
    this.leavePool();
    this.socket.destroy();
  }

  /** Out of the replica's pool now: 'close' comes a turn of the loop later, after a pipelined call may have looked. */
  private leavePool(): void {
    const idle = this.upstream.idle;
    const at = idle.indexOf(this);
    if (at !== -1) idle.splice(at, 1);
  }
}

/** One call on the fast plane, from the request head to the end of the answer. */
class FastCall {
  private readonly started = Date.now();
  private callId = '';
  private hasBody = false;
  /** The request head, without the Host line (the replica's, added per connection). */
  private readonly requestLine: string;
  private headLines = '';
  private cursor = 0;
  private attempt = 0;
  private upstream: Upstream | undefined;
  private conn: UpstreamConn | undefined;
  /** The answer's head went to the client (or the gateway's own answer did). */
  private answered = false;
  private finished = false;
  /** The answer's body leaves chunked (the replica's had no Content-Length). */
  private chunked = false;
  private keepUpstream = false;
  /** The replica's connection, paused until the client drains what it was sent. */
  private paused: UpstreamConn | undefined;
  /** What goes to the client at the end of this read from the replica: one write per read. */
  private out: Array<Buffer | string> = [];
  private outLength = 0;
  /** `out` holds a view of the shared read buffer: it must be copied before it is written. */
  private outView = false;
  /** The function's timeout counts from here: the start, or the last sweep that saw bytes move. */
  private quietSince: number;
  /** Bytes moved since the last sweep. */
  private active = false;

  constructor(
    readonly client: ClientConn,
    private readonly route: FunctionTarget,
    method: string,
  ) {
    observeStart(client.plane.starters, route.fn);
    this.requestLine = `${method} ${route.path} HTTP/1.1\r\n`;
    this.quietSince = this.started;
  }

  /** The request's headers for the replica, from llhttp's list (proxy-headers.ts). */
  forwardParsed(headers: string[]): void {
    const forwarded = forwardHeaderList(headers, this.client.remoteAddress, randomUUID, this.started, requestFacts);
    this.callId = requestFacts.callId!;
    this.hasBody = requestFacts.hasBody;
    this.headLines = `connection: keep-alive\r\n${lines(forwarded)}\r\n`;
  }

  /** The same, from a head head-scan.ts took: the lines kept leave as they came, the proxy's own follow. */
  forwardScanned(head: Buffer, scan: RequestScan): void {
    const client = this.client.remoteAddress;
    this.callId = scan.callId ?? randomUUID();
    this.hasBody = scan.contentLength > 0;
    let lines = `connection: keep-alive\r\n${keptLines(head, scan.kept)}x-forwarded-for: ${scan.forwardedFor ? `${scan.forwardedFor}, ${client}` : client}\r\n`;
    if (scan.forwardedHost === undefined && scan.host) lines += `x-forwarded-host: ${scan.host}\r\n`;
    this.headLines = `${lines}x-call-id: ${this.callId}\r\nx-start-time: ${startTime(this.started)}\r\n\r\n`;
  }

  start(endpoints: readonly Endpoint[]): void {
    this.cursor = this.client.plane.opts.next(this.route.fn);
    this.send(endpoints[this.cursor % endpoints.length]);
  }

  private send(endpoint: Endpoint): void {
    const { plane } = this.client;
    const upstream = plane.opts.ctx.upstreams.get(endpoint);
    upstream.inFlight++;
    upstream.used = true;
    this.upstream = upstream;
    const conn = (upstream.idle.pop() as UpstreamConn | undefined) ?? new UpstreamConn(upstream, plane);
    this.conn = conn;
    conn.take(this);
    conn.write(this.requestLine + conn.hostLine + this.headLines);
  }

  /** The plane's sweep: a call with no bytes either way for the function timeout has timed out. */
  sweep(now: number): void {
    if (this.finished) return;
    if (this.active) {
      this.active = false;
      this.quietSince = now;
    } else if (now - this.quietSince >= this.client.plane.timeoutMs) this.timedOut();
  }

  /** Body bytes from the client, on their way to the replica. */
  body(part: Buffer): void {
    const conn = this.conn;
    if (conn === undefined || this.finished) return;
    this.active = true;
    if (!conn.write(part)) this.client.waitFor(conn);
  }

  /** The replica's connection took all that was written to it. */
  upstreamDrained(): void {
    if (this.conn !== undefined) this.client.upstreamDrained(this.conn);
  }

  head(status: number, headers: string[], keepAlive: boolean): void {
    if (status < 200) return; // informational answers stay between the gateway and the replica
    const out = responseHeaderList(headers, this.callId, this.answering(status, keepAlive), responseFacts);
    this.chunked = responseFacts.contentLength < 0 && status !== 204 && status !== 304;
    this.queueHead(status, this.chunked ? `${lines(out)}transfer-encoding: chunked\r\n` : lines(out), hasDate(out));
  }

  /** The answer's head from head-scan.ts: its lines kept as they came, the proxy's own added. */
  headScanned(buf: Buffer, scan: ResponseScan): void {
    const ms = this.answering(scan.status, scan.keepAlive);
    this.queueHead(scan.status, `${keptLines(buf, scan.kept)}x-call-id: ${this.callId}\r\nx-duration-seconds: ${durationSeconds(ms)}\r\n`, scan.hasDate);
  }

  /** The replica answered with `status`: the observers hear of it; returns the call's duration in ms. */
  private answering(status: number, keepAlive: boolean): number {
    this.active = true;
    this.answered = true;
    this.keepUpstream = keepAlive;
    return observe(this.client.plane.opts.ctx.observers, this.route.fn, status, this.started);
  }

  /** The answer's status line, `lines`, a Date when the replica sent none and Connection, queued for the client. */
  private queueHead(status: number, lines: string, hasDate: boolean): void {
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\n${lines}`;
    if (!hasDate) head += dateHeader();
    head += this.client.keepAlive && !this.client.plane.closing ? 'connection: keep-alive\r\n\r\n' : 'connection: close\r\n\r\n';
    this.queue(head);
  }

  /** Body bytes of an answer framed by the fast plane: a view of the shared read buffer, copied on the way out. */
  bodyView(view: Buffer): void {
    if (this.finished) return;
    this.active = true;
    this.queue(view);
    this.outView = true;
  }

  /** The end of one read from the replica: what it brought leaves for the client in one write. */
  afterRead(): void {
    if (this.outLength > 0) this.flush();
  }

  /** Body bytes from the replica, on their way to the client. */
  bodyOut(chunk: Buffer): void {
    if (this.finished) return;
    this.active = true;
    if (this.chunked) {
      this.queue(`${chunk.length.toString(16)}\r\n`);
      this.queue(chunk);
      this.queue('\r\n');
    } else this.queue(chunk);
  }

  private queue(data: Buffer | string): void {
    this.out.push(data);
    this.outLength += data.length;
  }

  /** Writes what was queued for the client; a replica it cannot keep up with is paused. */
  private flush(): void {
    const out = this.out;
    const data = out.length === 1 && !this.outView ? out[0] : joinAll(out, this.outLength);
    this.out = [];
    this.outLength = 0;
    this.outView = false;
    if (this.client.raw.write(data) || this.conn === undefined || this.paused !== undefined) return;
    this.paused = this.conn;
    this.paused.pause();
  }

  /** The client took all that was written to it: the replica may send more. */
  clientDrained(): void {
    const upstream = this.paused;
    this.paused = undefined;
    upstream?.resume();
  }

  complete(trailers: string[]): void {
    if (this.finished) return;
    if (this.chunked) this.queue(`0\r\n${lines(trailers)}\r\n`);
    if (this.outLength > 0) this.flush();
    this.finish(this.keepUpstream && this.client.bodyLeft === 0);
  }

  upstreamFailed(err: Error & { code?: string }): void {
    if (this.finished) return;
    const { plane } = this.client;
    this.detach(false);
    if (this.answered) {
      if (this.outLength > 0) this.flush();
      return this.end(() => this.client.socket.destroy());
    }
    this.attempt++;
    // At least one retry, so a kept-alive connection the replica just closed is not a 502.
    if (!this.hasBody && RETRYABLE.has(err.code ?? '')) {
      const next = plane.opts.ctx.provider.endpoints(this.route.name, this.route.namespace);
      if (next && next.length && this.attempt < Math.max(2, next.length)) return this.send(next[(this.cursor + this.attempt) % next.length]);
    }
    const { fn } = this.route;
    plane.opts.ctx.log.warn({ fn, callId: this.callId, err: { code: err.code, message: err.message } }, 'function call failed');
    this.answer(502, `function "${fn}": its replica did not answer (${err.code ?? err.message})\n`);
  }

  timedOut(): void {
    if (this.finished) return;
    this.detach(false);
    if (this.answered) return this.end(() => this.client.socket.destroy());
    this.answer(504, `function "${this.route.fn}" did not answer within ${this.client.plane.opts.ctx.timeoutSeconds} s\n`);
  }

  /** The client went away: the call to the replica is cancelled (nginx's 499 when nothing was answered). */
  clientGone(): void {
    if (this.finished) return;
    this.detach(false);
    if (!this.answered) observe(this.client.plane.opts.ctx.observers, this.route.fn, 499, this.started);
    this.finished = true;
  }

  /** The gateway's own answer (plain text), when the replica gave none. */
  private answer(status: number, text: string): void {
    observe(this.client.plane.opts.ctx.observers, this.route.fn, status, this.started);
    this.answered = true;
    const close = !this.client.keepAlive || this.client.bodyLeft > 0 || this.client.plane.closing;
    const head = `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(text)}\r\n${dateHeader()}connection: ${close ? 'close' : 'keep-alive'}\r\n\r\n`;
    this.client.raw.write(Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(text)]));
    this.end(noop);
  }

  private finish(reusable: boolean): void {
    this.detach(reusable);
    this.end(noop);
  }

  private end(then: () => void): void {
    this.finished = true;
    then();
    this.client.done();
  }

  /** Lets go of the replica's connection: back to its pool, or closed. */
  private detach(reusable: boolean): void {
    const conn = this.conn;
    // The answer is all written (or the call is over): a pooled connection must read again.
    if (this.paused !== undefined) {
      this.paused.resume();
      this.paused = undefined;
    }
    if (this.upstream !== undefined) this.upstream.inFlight--;
    this.upstream = undefined;
    this.conn = undefined;
    if (conn === undefined) return;
    // A write that met backpressure must not hold the client: nothing more goes to this replica.
    if (reusable) conn.release(true);
    else conn.destroy();
  }
}

/** The pieces in one buffer (strings as latin1): one write instead of several. */
function joinAll(pieces: ReadonlyArray<Buffer | string>, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let at = 0;
  for (const piece of pieces) {
    if (typeof piece === 'string') at += out.write(piece, at, 'latin1');
    else at += piece.copy(out, at);
  }
  return out;
}

function hasDate(list: readonly string[]): boolean {
  for (let i = 0; i < list.length; i += 2) if (list[i] === 'date') return true;
  return false;
}
