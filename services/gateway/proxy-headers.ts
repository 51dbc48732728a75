// Header copying for the proxy, on node's and undici's raw header lists (flat name/value
// arrays): no header objects are built per call, and names are lower-cased only to test them.
import type { IncomingMessage } from 'node:http';
import { util } from 'undici';
import { hopByHopAnd } from '../../shared/hop-by-hop.js';

const { headerNameToString } = util;

/** Never forwarded: the hop-by-hop headers, the Host (the replica's own), and Expect (node answers 100-continue itself). */
export const HOP_BY_HOP: ReadonlySet<string> = hopByHopAnd('expect', 'host');

/** What the proxy needs to know of a request's headers, read in one pass over rawHeaders. */
export interface RequestFacts {
  callId: string | undefined;
  hasBody: boolean;
}

/**
 * Adds the names a Connection header lists to `listed` (also hop-by-hop). Names dropped anyway
 * are left out, so the usual "keep-alive" or "close" costs no Set per call. Trailer stays: a
 * response's Trailer header is forwarded unless Connection lists it.
 */
function addListed(value: string, listed: Set<string> | undefined): Set<string> | undefined {
  const lower = value.toLowerCase();
  if (lower === 'keep-alive' || lower === 'close') return listed;
  for (const token of lower.split(',')) {
    const name = token.trim();
    if (name === '' || name === 'close' || (HOP_BY_HOP.has(name) && name !== 'trailer')) continue;
    (listed ??= new Set()).add(name);
  }
  return listed;
}

/** Names listed in Connection headers, or undefined when there are none beyond the hop-by-hop ones. */
function connectionTokens(raw: readonly string[], names: readonly string[]): Set<string> | undefined {
  let listed: Set<string> | undefined;
  for (let i = 0; i < names.length; i++) if (names[i] === 'connection') listed = addListed(raw[2 * i + 1], listed);
  return listed;
}

let lastStarted = -1;
let lastStartTime = '';

/** X-Start-Time (nanoseconds, as OpenFaaS sends it) of a call started at `started` ms; calls in the same ms share one string. */
export function startTime(started: number): string {
  if (started !== lastStarted) {
    lastStarted = started;
    lastStartTime = `${started}000000`;
  }
  return lastStartTime;
}

/**
 * The upstream request's headers as a flat list: the client's end-to-end headers, then
 * X-Forwarded-For/-Host, X-Call-Id and X-Start-Time. Fills `facts` on the way.
 */
export function forwardHeaders(req: IncomingMessage, callIdOf: () => string, started: number, facts: RequestFacts): string[] {
  return forwardHeaderList(req.rawHeaders, req.socket.remoteAddress ?? '', callIdOf, started, facts);
}

/** forwardHeaders() on a raw header list as a parser gives it, for a client at `client` (the fast plane's way in). */
export function forwardHeaderList(raw: readonly string[], client: string, callIdOf: () => string, started: number, facts: RequestFacts): string[] {
  const names = new Array<string>(raw.length >> 1);
  for (let i = 0; i < raw.length; i += 2) names[i >> 1] = raw[i].toLowerCase();
  const listed = connectionTokens(raw, names);
  const out: string[] = [];
  let forwardedFor: string | undefined;
  let host: string | undefined;
  let forwardedHost = false;
  let contentLength: string | undefined;
  let chunked = false;
  facts.callId = undefined;
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    const value = raw[2 * i + 1];
    switch (name) {
      case 'host':
        host = value;
        continue;
      case 'content-length':
        contentLength = value;
        break;
      case 'transfer-encoding':
        chunked = true;
        continue;
      case 'x-call-id':
        // Several X-Call-Id headers: the first one is the call's id.
        if (facts.callId === undefined && value) facts.callId = value;
        continue;
      case 'x-forwarded-for':
        forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`;
        continue;
      case 'x-forwarded-host':
        forwardedHost = true;
        break;
      case 'x-start-time':
        continue;
    }
    if (HOP_BY_HOP.has(name) || listed?.has(name)) continue;
    out.push(raw[2 * i], value);
  }
  out.push('x-forwarded-for', forwardedFor ? `${forwardedFor}, ${client}` : client);
  if (!forwardedHost && host) out.push('x-forwarded-host', host);
  facts.callId ??= callIdOf();
  out.push('x-call-id', facts.callId, 'x-start-time', startTime(started));
  facts.hasBody = contentLength !== undefined ? contentLength !== '0' : chunked;
  return out;
}

/** What the proxy needs to know of a response's headers, read while they are copied. */
export interface ResponseFacts {
  /** The Content-Length, or -1 when there is none (or more than one, which undici refuses anyway). */
  contentLength: number;
}

/** ".000" to ".999": X-Duration-Seconds' fraction, made once instead of toFixed() per call. */
const MILLIS = Array.from({ length: 1000 }, (_, i) => `.${String(i).padStart(3, '0')}`);

/** Milliseconds as seconds with three decimals ("0.007"), as X-Duration-Seconds carries them. */
export function durationSeconds(ms: number): string {
  return ms > 0 ? `${Math.floor(ms / 1000)}${MILLIS[ms % 1000]}` : '0.000';
}

/** The response's header names, lower-cased; reused by every call (filled and read synchronously). */
const lowered: string[] = [];

/**
 * The function's response headers for the client: end-to-end ones, then X-Call-Id and
 * X-Duration-Seconds. Names leave lower-cased (HTTP/2's form; HTTP/1.1 names are
 * case-insensitive): undici's headerNameToString() gives well-known ones without decoding
 * the bytes, the costliest step of this copy otherwise. Fills `facts` on the way.
 */
export function responseHeaders(raw: Buffer[], callId: string, durationMs: number, facts: ResponseFacts): string[] {
  const pairs = raw.length >> 1;
  for (let i = 0; i < pairs; i++) lowered[i] = headerNameToString(raw[2 * i]);
  return endToEnd(pairs, (i) => raw[2 * i + 1].toString('latin1'), callId, durationMs, facts);
}

/** responseHeaders() on a raw header list of strings, as node's parser gives it (the fast plane's). */
export function responseHeaderList(raw: readonly string[], callId: string, durationMs: number, facts: ResponseFacts): string[] {
  const pairs = raw.length >> 1;
  for (let i = 0; i < pairs; i++) lowered[i] = raw[2 * i].toLowerCase();
  return endToEnd(pairs, (i) => raw[2 * i + 1], callId, durationMs, facts);
}

/** The copy itself, over the names in `lowered` and their values by index. */
function endToEnd(pairs: number, valueAt: (i: number) => string, callId: string, durationMs: number, facts: ResponseFacts): string[] {
  const out: string[] = [];
  let contentLength = -1;
  let listed: Set<string> | undefined;
  for (let i = 0; i < pairs; i++) if (lowered[i] === 'connection') listed = addListed(valueAt(i), listed);
  for (let i = 0; i < pairs; i++) {
    const name = lowered[i];
    // Trailer announces the trailers the gateway passes on (RFC 9110 6.6.2): end-to-end in a response.
    if ((HOP_BY_HOP.has(name) && name !== 'trailer') || listed?.has(name) || name === 'x-call-id' || name === 'x-duration-seconds') continue;
    const value = valueAt(i);
    if (name === 'content-length') contentLength = contentLength === -1 && /^\d{1,15}$/.test(value) ? Number(value) : -2;
    out.push(name, value);
  }
  facts.contentLength = contentLength < 0 ? -1 : contentLength;
  out.push('x-call-id', callId, 'x-duration-seconds', durationSeconds(durationMs));
  return out;
}
