// The fast plane's scan of a plain HTTP/1.1 head (fast-plane.ts), in JS over the bytes: no
// header strings from C++, no lower-cased copies, and the header lines a call forwards unchanged
// leave as the bytes that came, in ranges. It accepts only a strict subset of what llhttp
// accepts and frames it the same way: the request line `METHOD /target HTTP/1.1` (the six
// methods the fast plane serves), answers `HTTP/1.1 NNN reason` with one Content-Length,
// header names of token characters, values of visible characters, spaces and tabs, every line
// ended by CRLF. Anything else (a bare LF or CR, obs-fold, a control byte, Transfer-Encoding,
// Expect, Upgrade, two Content-Lengths or Hosts, a Connection header listing other headers,
// 1xx/204/304 answers) is not scanned: the caller gives those bytes to llhttp as before, which
// decides, refuses or hands them to node (head-scan.test.ts checks that every
// head this scan takes, llhttp takes with the same framing).

/** token characters (RFC 9110 5.6.2). */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;

/** Bytes a field value may hold: visible ASCII, obs-text, space and tab (no other control byte). */
const VALUE = new Uint8Array(256);
VALUE[0x09] = 1;
for (let c = 0x20; c <= 0x7e; c++) VALUE[c] = 1;
for (let c = 0x80; c <= 0xff; c++) VALUE[c] = 1;

/** Buffer#latin1Slice: toString('latin1', ...) without its argument checks (every Buffer has it; @types/node does not list it). */
const slice = (buf: Buffer, start: number, end: number): string => (buf as Buffer & { latin1Slice(start: number, end: number): string }).latin1Slice(start, end);

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;

/** What a scan found; one object per direction, reused by every call (read at once). */
export interface HeadScan {
  /** [start, end) of each run of header lines forwarded unchanged, CRLFs included. */
  kept: number[];
  contentLength: number;
  /** No `Connection: close`. */
  keepAlive: boolean;
}

export interface RequestScan extends HeadScan {
  method: string;
  url: string;
  host: string | undefined;
  forwardedHost: string | undefined;
  /** X-Forwarded-For values, joined with ", " as they came. */
  forwardedFor: string | undefined;
  /** The first non-empty X-Call-Id. */
  callId: string | undefined;
}

export interface ResponseScan extends HeadScan {
  status: number;
  hasDate: boolean;
}

/** Is the header name at buf[at, at + lit.length) `lit` (lower-case letters and '-'), in any case? */
function nameIs(buf: Buffer, at: number, lit: string): boolean {
  for (let i = 0; i < lit.length; i++) if ((buf[at + i] | 0x20) !== lit.charCodeAt(i)) return false;
  return true;
}

/** One of the six methods the fast plane serves at buf[0, end), as an interned string. */
function methodOf(buf: Buffer, end: number): string | undefined {
  let method: string;
  switch (end) {
    case 3:
      method = buf[0] === 0x47 ? 'GET' : 'PUT';
      break;
    case 4:
      method = 'POST';
      break;
    case 5:
      method = 'PATCH';
      break;
    case 6:
      method = 'DELETE';
      break;
    case 7:
      method = 'OPTIONS';
      break;
    default:
      return undefined;
  }
  for (let i = 0; i < end; i++) if (buf[i] !== method.charCodeAt(i)) return undefined;
  return method;
}

/** A Content-Length value: 1 to 15 digits, else -1. */
function lengthOf(buf: Buffer, from: number, to: number): number {
  if (to === from || to - from > 15) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = buf[i] - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** 1 for `keep-alive`, 0 for `close`, -1 for anything else (a list of names: llhttp's to read). */
function connectionOf(buf: Buffer, from: number, to: number): number {
  if (to - from === 10 && nameIs(buf, from, 'keep-alive')) return 1;
  if (to - from === 5 && nameIs(buf, from, 'close')) return 0;
  return -1;
}

/** The bytes of "HTTP/1.1 " */
function isHttp11(buf: Buffer, at: number): boolean {
  return buf[at] === 0x48 && buf[at + 1] === 0x54 && buf[at + 2] === 0x54 && buf[at + 3] === 0x50 && buf[at + 4] === 0x2f && buf[at + 5] === 0x31 && buf[at + 6] === 0x2e && buf[at + 7] === 0x31;
}

/** Marks [from, to) as forwarded, joining it to the run before when they touch. */
function keep(kept: number[], from: number, to: number): void {
  const n = kept.length;
  if (n > 0 && kept[n - 1] === from) kept[n - 1] = to;
  else kept.push(from, to);
}

/**
 * Walks the header lines from `at` to the head's end (`headLength`, just after its blank line),
 * calling `field` with each line's name and value bounds; false when a line breaks the rules
 * above or `field` refuses it.
 */
function fields(buf: Buffer, at: number, headLength: number, field: (line: number, name: number, nameEnd: number, value: number, valueEnd: number, next: number) => boolean): boolean {
  const last = headLength - 2;
  while (at < last) {
    const line = at;
    while (TCHAR[buf[at]] === 1) at++;
    if (at === line || buf[at] !== 0x3a) return false;
    const nameEnd = at++;
    while (buf[at] === SP || buf[at] === HTAB) at++;
    const value = at;
    while (VALUE[buf[at]] === 1) at++;
    if (buf[at] !== CR || buf[at + 1] !== LF || at >= last) return false;
    let valueEnd = at;
    while (valueEnd > value && (buf[valueEnd - 1] === SP || buf[valueEnd - 1] === HTAB)) valueEnd--;
    at += 2;
    if (!field(line, line, nameEnd, value, valueEnd, at)) return false;
  }
  return at === last && buf[at] === CR && buf[at + 1] === LF;
}

/** What a field does to the head: forwarded as it came, dropped, or the head is not the scan's. */
const KEEP = 0;
const DROP = 1;
const REFUSE = 2;
/** Not one of the fields both directions treat alike. */
const OTHER = 3;

/** Both heads have had a Content-Length line (a second one is llhttp's to refuse). */
let seenLength = false;

/** The fields both directions treat alike: hop-by-hop names, Connection, Content-Length, Transfer-Encoding. */
function framing(buf: Buffer, r: HeadScan, name: number, length: number, value: number, valueEnd: number): number {
  switch (length) {
    case 2:
      return nameIs(buf, name, 'te') ? DROP : OTHER;
    case 10:
      if (nameIs(buf, name, 'connection')) {
        const c = connectionOf(buf, value, valueEnd);
        if (c === -1) return REFUSE;
        if (c === 0) r.keepAlive = false;
        return DROP;
      }
      return nameIs(buf, name, 'keep-alive') ? DROP : OTHER;
    case 14:
      if (!nameIs(buf, name, 'content-length')) return OTHER;
      if (seenLength) return REFUSE;
      seenLength = true;
      r.contentLength = lengthOf(buf, value, valueEnd);
      return r.contentLength < 0 ? REFUSE : KEEP;
    case 16:
      return nameIs(buf, name, 'proxy-connection') ? DROP : OTHER;
    case 17:
      return nameIs(buf, name, 'transfer-encoding') ? REFUSE : OTHER;
    case 18:
      return nameIs(buf, name, 'proxy-authenticate') ? DROP : OTHER;
    case 19:
      return nameIs(buf, name, 'proxy-authorization') ? DROP : OTHER;
  }
  return OTHER;
}

const request: RequestScan = { kept: [], contentLength: 0, keepAlive: true, method: '', url: '', host: undefined, forwardedHost: undefined, forwardedFor: undefined, callId: undefined };
let reqBuf: Buffer;

function requestField(line: number, name: number, nameEnd: number, value: number, valueEnd: number, next: number): boolean {
  const buf = reqBuf;
  const r = request;
  const length = nameEnd - name;
  let does = framing(buf, r, name, length, value, valueEnd);
  if (does === OTHER) {
    does = KEEP;
    switch (length) {
      case 4:
        if (nameIs(buf, name, 'host')) {
          if (r.host !== undefined) return false;
          r.host = slice(buf, value, valueEnd);
          does = DROP;
        }
        break;
      case 6:
        if (nameIs(buf, name, 'expect')) does = REFUSE;
        break;
      case 7:
        if (nameIs(buf, name, 'upgrade')) does = REFUSE;
        else if (nameIs(buf, name, 'trailer')) does = DROP;
        break;
      case 9:
        if (nameIs(buf, name, 'x-call-id')) {
          if (r.callId === undefined && valueEnd > value) r.callId = slice(buf, value, valueEnd);
          does = DROP;
        }
        break;
      case 12:
        if (nameIs(buf, name, 'x-start-time')) does = DROP;
        break;
      case 15:
        if (nameIs(buf, name, 'x-forwarded-for')) {
          const v = slice(buf, value, valueEnd);
          r.forwardedFor = r.forwardedFor === undefined ? v : `${r.forwardedFor}, ${v}`;
          does = DROP;
        }
        break;
      case 16:
        if (nameIs(buf, name, 'x-forwarded-host')) r.forwardedHost ??= slice(buf, value, valueEnd);
        break;
    }
  }
  if (does === KEEP) keep(r.kept, line, next);
  return does !== REFUSE;
}

/**
 * Scans the request head buf[0, headLength) (headLength just after its blank line); undefined
 * when it is not one this scan takes. The result is reused by the next scan.
 */
export function scanRequest(buf: Buffer, headLength: number): RequestScan | undefined {
  let at = 0;
  while (TCHAR[buf[at]] === 1 && at < 8) at++;
  const method = buf[at] === SP ? methodOf(buf, at) : undefined;
  if (method === undefined || buf[++at] !== 0x2f) return undefined;
  const url = at;
  while (buf[at] > SP && buf[at] < 0x7f) at++;
  if (buf[at] !== SP || !isHttp11(buf, at + 1) || buf[at + 9] !== CR || buf[at + 10] !== LF) return undefined;
  const r = request;
  r.method = method;
  r.url = slice(buf, url, at);
  r.kept.length = 0;
  r.contentLength = 0;
  r.keepAlive = true;
  r.host = r.forwardedHost = r.forwardedFor = r.callId = undefined;
  reqBuf = buf;
  seenLength = false;
  return fields(buf, at + 11, headLength, requestField) ? r : undefined;
}

const response: ResponseScan = { kept: [], contentLength: -1, keepAlive: true, status: 0, hasDate: false };
let resBuf: Buffer;

function responseField(line: number, name: number, nameEnd: number, value: number, valueEnd: number, next: number): boolean {
  const buf = resBuf;
  const r = response;
  const length = nameEnd - name;
  let does = framing(buf, r, name, length, value, valueEnd);
  if (does === OTHER) {
    does = KEEP;
    switch (length) {
      case 4:
        if (nameIs(buf, name, 'date')) r.hasDate = true;
        break;
      case 7:
        if (nameIs(buf, name, 'upgrade')) does = DROP;
        break;
      case 9:
        if (nameIs(buf, name, 'x-call-id')) does = DROP;
        break;
      case 18:
        if (nameIs(buf, name, 'x-duration-seconds')) does = DROP;
        break;
    }
  }
  if (does !== KEEP) return does !== REFUSE;
  // Answer header names reach the client lower-cased, as on node's path (docs/api.md): in place, the bytes are the plane's.
  for (let i = name; i < nameEnd; i++) if (buf[i] >= 0x41 && buf[i] <= 0x5a) buf[i] |= 0x20;
  keep(r.kept, line, next);
  return true;
}

/**
 * Scans an answer's head buf[0, headLength): `HTTP/1.1 NNN reason`, a status from 200 to
 * 599 other than 204 and 304, and exactly one Content-Length; undefined otherwise. The names
 * of the lines it keeps are lower-cased in `buf`.
 */
export function scanResponse(buf: Buffer, headLength: number): ResponseScan | undefined {
  if (!isHttp11(buf, 0) || buf[8] !== SP || buf[12] !== SP) return undefined;
  const status = (buf[9] - 0x30) * 100 + (buf[10] - 0x30) * 10 + (buf[11] - 0x30);
  for (let i = 9; i < 12; i++) if (buf[i] < 0x30 || buf[i] > 0x39) return undefined;
  if (status < 200 || status > 599 || status === 204 || status === 304) return undefined;
  let at = 13;
  while (VALUE[buf[at]] === 1) at++;
  if (buf[at] !== CR || buf[at + 1] !== LF) return undefined;
  const r = response;
  r.status = status;
  r.kept.length = 0;
  r.contentLength = -1;
  r.keepAlive = true;
  r.hasDate = false;
  resBuf = buf;
  seenLength = false;
  if (!fields(buf, at + 2, headLength, responseField) || r.contentLength === -1) return undefined;
  return r;
}

/** The kept runs of `buf` as one latin1 string (the bytes as they came). */
export function keptLines(buf: Buffer, kept: readonly number[]): string {
  if (kept.length === 2) return slice(buf, kept[0], kept[1]);
  let out = '';
  for (let i = 0; i < kept.length; i += 2) out += slice(buf, kept[i], kept[i + 1]);
  return out;
}
