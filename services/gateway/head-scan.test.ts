// head-scan.ts against llhttp: every head the scan takes, node's llhttp binding (strict, as the
// fast plane's client parser runs it) takes too, with the same method, target, Content-Length,
// keep-alive and header lines; the heads it must leave to llhttp (smuggling shapes, odd line
// ends, hop-by-hop headers it cannot drop by itself) it leaves. Then random mutations of good
// heads: whatever the scan still takes, llhttp takes the same way.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import { keptLines, scanRequest, scanResponse } from './head-scan.js';

interface Parser {
  initialize(type: number, resource: object, maxHeaderSize?: number, lenient?: number): void;
  execute(data: Buffer): number | Error;
  close(): void;
  [callback: number]: (...args: any[]) => unknown;
}
const { HTTPParser, methods } = createRequire(import.meta.url)('_http_common') as {
  HTTPParser: { new (): Parser; REQUEST: number; RESPONSE: number; kOnHeaders: number; kOnHeadersComplete: number; kOnBody: number; kOnMessageComplete: number };
  methods: string[];
};

interface Parsed {
  method?: string;
  url?: string;
  status?: number;
  headers: string[];
  keepAlive: boolean;
  upgrade: boolean;
}

/** What llhttp makes of `head` (whole, nothing after it), or undefined when it refuses it. */
function llhttp(type: number, head: Buffer): Parsed | undefined {
  const parser = new HTTPParser();
  parser.initialize(type, {}, 0, 0);
  let parsed: Parsed | undefined;
  parser[HTTPParser.kOnHeadersComplete] = (_ma: number, _mi: number, headers: string[], method: number, url: string, status: number, _r: unknown, upgrade: boolean, keepAlive: boolean) => {
    parsed = { method: methods[method], url, status, headers, keepAlive, upgrade };
    return 1; // no body is parsed here: the head alone is compared
  };
  parser[HTTPParser.kOnHeaders] = () => undefined;
  parser[HTTPParser.kOnBody] = () => undefined;
  parser[HTTPParser.kOnMessageComplete] = () => undefined;
  const result = parser.execute(head);
  parser.close();
  return result instanceof Error ? undefined : parsed;
}

const headLength = (head: Buffer) => head.indexOf('\r\n\r\n') + 4;
const lower = (list: string[]) => list.map((v, i) => (i % 2 === 0 ? v.toLowerCase() : v));
/** The header lines of `text` as a flat list (names lower-cased), values trimmed as llhttp trims them. */
function linesOf(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\r\n').filter(Boolean)) {
    const colon = line.indexOf(':');
    out.push(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, ''));
  }
  return out;
}

const REQUEST_DROPPED = new Set(['host', 'connection', 'keep-alive', 'te', 'trailer', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'x-call-id', 'x-forwarded-for', 'x-start-time']);
const RESPONSE_DROPPED = new Set(['connection', 'keep-alive', 'te', 'upgrade', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'x-call-id', 'x-duration-seconds']);

/** Checks a request head the scan took against llhttp's reading of it; returns the scan. */
function sameRequest(head: Buffer) {
  const scan = scanRequest(head, headLength(head));
  if (scan === undefined) return undefined;
  const parsed = llhttp(HTTPParser.REQUEST, head);
  assert.ok(parsed, `llhttp refuses a head the scan took: ${JSON.stringify(head.toString('latin1'))}`);
  assert.equal(scan.method, parsed.method);
  assert.equal(scan.url, parsed.url);
  assert.equal(scan.keepAlive, parsed.keepAlive);
  assert.equal(parsed.upgrade, false);
  const all = lower(parsed.headers);
  const length = all.findIndex((v, i) => i % 2 === 0 && v === 'content-length');
  assert.equal(scan.contentLength, length === -1 ? 0 : Number(all[length + 1]));
  assert.deepEqual(linesOf(keptLines(head, scan.kept)), all.filter((_, i) => !REQUEST_DROPPED.has(all[i - (i % 2)])));
  const host = all.findIndex((v, i) => i % 2 === 0 && v === 'host');
  assert.equal(scan.host, host === -1 ? undefined : all[host + 1]);
  return { ...scan, kept: [...scan.kept] };
}

function sameResponse(head: Buffer) {
  const scan = scanResponse(head, headLength(head));
  if (scan === undefined) return undefined;
  const parsed = llhttp(HTTPParser.RESPONSE, head);
  assert.ok(parsed, `llhttp refuses an answer head the scan took: ${JSON.stringify(head.toString('latin1'))}`);
  assert.equal(scan.status, parsed.status);
  assert.equal(scan.keepAlive, parsed.keepAlive);
  const all = lower(parsed.headers);
  const length = all.findIndex((v, i) => i % 2 === 0 && v === 'content-length');
  assert.notEqual(length, -1);
  assert.equal(scan.contentLength, Number(all[length + 1]));
  assert.equal(scan.hasDate, all.some((v, i) => i % 2 === 0 && v === 'date'));
  const kept = keptLines(head, scan.kept);
  assert.deepEqual(linesOf(kept), all.filter((_, i) => !RESPONSE_DROPPED.has(all[i - (i % 2)])));
  for (const line of kept.split('\r\n')) assert.equal(line.slice(0, line.indexOf(':') + 1), line.slice(0, line.indexOf(':') + 1).toLowerCase(), 'answer header names leave lower-cased');
  return scan;
}

const req = (text: string) => Buffer.from(text, 'latin1');

/** `count` heads made from `seeds` by 1 to 3 random edits (a piece of `alphabet` in, 0 to 2 bytes out), cut at their first blank line. */
function* mutations(seeds: string[], alphabet: string[], seed: number, count: number): Generator<Buffer> {
  let state = seed;
  const random = (n: number) => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state % n;
  };
  for (let i = 0; i < count; i++) {
    let text = seeds[i % seeds.length];
    for (let k = 1 + random(3); k > 0; k--) {
      const at = random(text.length);
      text = text.slice(0, at) + alphabet[random(alphabet.length)] + text.slice(at + random(3));
    }
    const head = req(text);
    if (head.indexOf('\r\n\r\n') !== -1) yield head.subarray(0, headLength(head));
  }
}

describe('head-scan: requests', () => {
  test('plain calls are taken, with the lines they forward as they came', () => {
    const scan = sameRequest(req('GET /function/echo?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl/7.88\r\nAccept: */*\r\n\r\n'));
    assert.ok(scan);
    assert.equal(keptLines(req('GET /function/echo?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl/7.88\r\nAccept: */*\r\n\r\n'), scan.kept), 'User-Agent: curl/7.88\r\nAccept: */*\r\n');
    assert.ok(sameRequest(req('POST /function/a HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\nX-Empty:\r\nx-obs: caf\xe9 \t\r\n\r\n')));
    assert.equal(sameRequest(req('DELETE /function/a HTTP/1.1\r\nConnection: close\r\n\r\n'))?.keepAlive, false);
    assert.equal(sameRequest(req('OPTIONS /function/a HTTP/1.1\r\nConnection: Keep-Alive\r\n\r\n'))?.keepAlive, true);
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) assert.equal(sameRequest(req(`${method} / HTTP/1.1\r\n\r\n`))?.method, method);
  });

  test('X-Forwarded-For values join, the first X-Call-Id and X-Forwarded-Host count, hop-by-hop lines are dropped', () => {
    const scan = sameRequest(
      req('GET /function/a HTTP/1.1\r\nX-Call-Id:\r\nx-call-id: id-1\r\nX-Call-Id: id-2\r\nX-Forwarded-For: 10.0.0.1\r\nx-forwarded-for: 10.0.0.2\r\nX-Forwarded-Host: a.example\r\nx-forwarded-host: b.example\r\nTE: trailers\r\nTrailer: x\r\nKeep-Alive: timeout=5\r\nProxy-Authorization: Basic eA==\r\nX-Start-Time: 1\r\nA: b\r\n\r\n'),
    );
    assert.ok(scan);
    assert.equal(scan.callId, 'id-1');
    assert.equal(scan.forwardedFor, '10.0.0.1, 10.0.0.2');
    assert.equal(scan.forwardedHost, 'a.example');
  });

  test('heads llhttp must read (or refuse, or hand to node) are left to it', () => {
    const left = [
      'GET /function/a HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n', // duplicate Content-Length
      'POST /function/a HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n', // CL with TE
      'POST /function/a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n',
      'GET /function/a HTTP/1.1\nHost: a\r\n\r\n', // a bare LF
      'GET /function/a HTTP/1.1\r\nHost: a\nX: b\r\n\r\n',
      'GET /function/a HTTP/1.1\r\nHost: a\rX: b\r\n\r\n', // a bare CR
      'GET /function/a HTTP/1.1\r\nX: a\r\n b\r\n\r\n', // obs-fold
      'GET /function/a HTTP/1.1\r\nHost : a\r\n\r\n', // space before the colon
      'GET /function/a HTTP/1.1\r\nX: a\x00b\r\n\r\n',
      'GET /function/a HTTP/1.1\r\nX: a\x7fb\r\n\r\n',
      'GET /function/a HTTP/1.1\r\n: a\r\n\r\n',
      'POST /function/a HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n',
      'GET /function/a HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
      'GET /function/a HTTP/1.1\r\nConnection: keep-alive, X-Secret\r\n\r\n', // Connection naming a header
      'GET /function/a HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
      'POST /function/a HTTP/1.1\r\nContent-Length: +5\r\n\r\n',
      'POST /function/a HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n',
      'POST /function/a HTTP/1.1\r\nContent-Length: 1234567890123456\r\n\r\n',
      'POST /function/a HTTP/1.1\r\nContent-Length:\r\n\r\n',
      'GET /function/a HTTP/1.0\r\n\r\n',
      'HEAD /function/a HTTP/1.1\r\n\r\n',
      'CONNECT a:443 HTTP/1.1\r\n\r\n',
      'get /function/a HTTP/1.1\r\n\r\n',
      'GET http://a/function/a HTTP/1.1\r\n\r\n', // absolute form
      'GET  /function/a HTTP/1.1\r\n\r\n',
      'GET /function/a  HTTP/1.1\r\n\r\n',
      'GET /function/\x01 HTTP/1.1\r\n\r\n',
      'GET /function/a HTTP/1.1 \r\n\r\n',
    ];
    for (const text of left) assert.equal(scanRequest(req(text), headLength(req(text))), undefined, JSON.stringify(text));
  });

  test('random mutations of good heads: what the scan takes, llhttp takes the same way', () => {
    const seeds = [
      'POST /function/echo/p?q=1 HTTP/1.1\r\nHost: alice.fn.local\r\nContent-Length: 12\r\nX-Forwarded-For: 1.2.3.4\r\nConnection: close\r\nX-Call-Id: abc\r\n\r\n',
      'GET /function/a HTTP/1.1\r\nhost: a\r\naccept: */*\r\nte: trailers\r\ncontent-length: 0\r\n\r\n',
    ];
    const alphabet = [...'\r\n \t:,-0123456789aAzZ/\x00\x7f\x80\xff', 'Content-Length: 3\r\n', 'Transfer-Encoding: chunked\r\n', '\r\n\r\n', 'Host: b\r\n'];
    let taken = 0;
    for (const head of mutations(seeds, alphabet, 7, 4000)) if (sameRequest(head)) taken++;
    assert.ok(taken > 100, `only ${taken} mutated heads were taken: the mutation is too coarse to test anything`);
  });
});

describe('head-scan: answers from replicas', () => {
  test('plain answers with one Content-Length are taken', () => {
    const scan = sameResponse(req('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nDate: Sun, 06 Dec 2026 04:00:00 GMT\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Length: 4\r\n\r\n'));
    assert.ok(scan);
    assert.equal(sameResponse(req('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\nX-Call-Id: theirs\r\nX-Duration-Seconds: 9\r\nTrailer: x\r\n\r\n'))?.keepAlive, false);
    assert.ok(sameResponse(req('HTTP/1.1 599 \r\nContent-Length: 1\r\n\r\n')));
  });

  test('answers llhttp must frame are left to it', () => {
    const left = [
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n',
      'HTTP/1.1 200 OK\r\n\r\n', // delimited by the close
      'HTTP/1.1 200 OK\nContent-Length: 1\n\n', // bare LF: llhttp's lenient reading
      'HTTP/1.1 200 OK\r\nContent-Length: 1\nX: y\r\n\r\n',
      'HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n',
      'HTTP/1.1 100 Continue\r\n\r\n',
      'HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n',
      'HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n',
      'HTTP/1.1 2000 OK\r\nContent-Length: 1\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close, X-A\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nX: a\r\n b\r\n\r\n',
    ];
    for (const text of left) assert.equal(scanResponse(req(text), headLength(req(text))), undefined, JSON.stringify(text));
  });

  test('random mutations of good answers: what the scan takes, llhttp takes the same way', () => {
    const seed = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 27\r\nDate: Sun, 06 Dec 2026 04:00:00 GMT\r\nConnection: keep-alive\r\n\r\n';
    const alphabet = [...'\r\n \t:,-0123456789aAzZ/\x00\x7f\x80\xff', 'Content-Length: 3\r\n', 'Transfer-Encoding: chunked\r\n', 'Connection: close\r\n'];
    let taken = 0;
    for (const head of mutations([seed], alphabet, 11, 4000)) if (sameResponse(head)) taken++;
    assert.ok(taken > 100, `only ${taken} mutated answers were taken`);
  });
});
