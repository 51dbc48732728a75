// Header copying for the proxy, on node's and undici's raw header lists (flat name/value
// arrays): no header objects are built per call, and names are lower-cased only to test them.
import type { IncomingMessage } from 'node:http';
import { hopByHopAnd } from '../../shared/hop-by-hop.js';

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

/**
 * The upstream request's headers as a flat list: the client's end-to-end headers, then
 * X-Forwarded-For/-Host, X-Call-Id and X-Start-Time. Fills `facts` on the way.
 */
export function forwardHeaders(req: IncomingMessage, callIdOf: () => string, started: number, facts: RequestFacts): string[] {
  const raw = req.rawHeaders;
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
  const client = req.socket.remoteAddress ?? '';
  out.push('x-forwarded-for', forwardedFor ? `${forwardedFor}, ${client}` : client);
  if (!forwardedHost && host) out.push('x-forwarded-host', host);
  facts.callId ??= callIdOf();
  out.push('x-call-id', facts.callId, 'x-start-time', `${started}000000`);
  facts.hasBody = contentLength !== undefined ? contentLength !== '0' : chunked;
  return out;
}

/** What the proxy needs to know of a response's headers, read while they are copied. */
export interface ResponseFacts {
  /** The Content-Length, or -1 when there is none (or more than one, which undici refuses anyway). */
  contentLength: number;
}

/**
 * The function's response headers for the client: end-to-end ones as strings, then X-Call-Id
 * and X-Duration-Seconds. Fills `facts` on the way.
 */
export function responseHeaders(raw: Buffer[], callId: string, started: number, facts: ResponseFacts): string[] {
  const out: string[] = [];
  let contentLength = -1;
  let listed: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    // Length and first byte first: Keep-Alive has Connection's length, and is as common.
    const name = raw[i];
    if (name.length === 10 && (name[0] | 0x20) === 0x63 /* c */ && name.toString('latin1').toLowerCase() === 'connection') listed = addListed(raw[i + 1].toString('latin1'), listed);
  }
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toString('latin1');
    const lower = name.toLowerCase();
    // Trailer announces the trailers the gateway passes on (RFC 9110 6.6.2): end-to-end in a response.
    if ((HOP_BY_HOP.has(lower) && lower !== 'trailer') || listed?.has(lower) || lower === 'x-call-id' || lower === 'x-duration-seconds') continue;
    const value = raw[i + 1].toString('latin1');
    if (lower === 'content-length') contentLength = contentLength === -1 && /^\d{1,15}$/.test(value) ? Number(value) : -2;
    out.push(name, value);
  }
  facts.contentLength = contentLength < 0 ? -1 : contentLength;
  out.push('x-call-id', callId, 'x-duration-seconds', ((Date.now() - started) / 1000).toFixed(3));
  return out;
}
