// responseHeaders() on undici's raw header lists: what passes, what is dropped, and the
// Content-Length the proxy's whole-body fast path (proxy-call.ts) relies on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { durationSeconds, responseHeaders, type ResponseFacts } from './proxy-headers.js';

const raw = (...pairs: string[]) => pairs.map((p) => Buffer.from(p, 'latin1'));
const names = (out: string[]) => out.filter((_, i) => i % 2 === 0);

test('Connection: keep-alive drops only the hop-by-hop headers; the call id and duration are the gateway\'s', () => {
  const facts: ResponseFacts = { contentLength: 0 };
  const out = responseHeaders(raw('Content-Type', 'text/plain', 'Connection', 'keep-alive', 'Keep-Alive', 'timeout=5', 'Content-Length', '11', 'X-Call-Id', 'forged', 'X-Duration-Seconds', '9', 'X-Custom-Thing', 'Mixed Case Value'), 'id-1', 1234, facts);
  // Names leave lower-cased, well-known or not; values as they came.
  assert.deepEqual(names(out), ['content-type', 'content-length', 'x-custom-thing', 'x-call-id', 'x-duration-seconds']);
  assert.equal(out[out.indexOf('x-custom-thing') + 1], 'Mixed Case Value');
  assert.equal(out[out.indexOf('x-call-id') + 1], 'id-1');
  assert.equal(out[out.indexOf('x-duration-seconds') + 1], '1.234');
  assert.equal(facts.contentLength, 11);
});

test('names a Connection header lists are dropped, Trailer included; Trailer is kept otherwise', () => {
  const facts: ResponseFacts = { contentLength: 0 };
  const listed = responseHeaders(raw('connection', 'Trailer, X-Hop', 'Trailer', 'x-sum', 'x-hop', '1', 'x-end', '2', 'Transfer-Encoding', 'chunked'), 'id', 0, facts);
  assert.deepEqual(names(listed), ['x-end', 'x-call-id', 'x-duration-seconds']);
  assert.equal(facts.contentLength, -1);
  const kept = responseHeaders(raw('Connection', 'close', 'Trailer', 'x-sum'), 'id', 0, facts);
  assert.deepEqual(names(kept), ['trailer', 'x-call-id', 'x-duration-seconds']);
});

test('the Content-Length fact is -1 unless there is exactly one plain number', () => {
  const facts: ResponseFacts = { contentLength: 0 };
  for (const [pairs, expected] of [
    [['content-length', '0'], 0],
    [['content-length', '433'], 433],
    [['content-length', '5', 'content-length', '5'], -1],
    [['content-length', '+5'], -1],
    [['content-length', ' 5'], -1],
    [['x-other', '5'], -1],
  ] as const) {
    responseHeaders(raw(...pairs), 'id', 0, facts);
    assert.equal(facts.contentLength, expected, JSON.stringify(pairs));
  }
});

test('X-Duration-Seconds: milliseconds as seconds with three decimals', () => {
  for (const [ms, text] of [
    [0, '0.000'],
    [7, '0.007'],
    [80, '0.080'],
    [999, '0.999'],
    [1000, '1.000'],
    [1234, '1.234'],
    [60_000, '60.000'],
    [-3, '0.000'],
  ] as const) {
    assert.equal(durationSeconds(ms), text);
    if (ms >= 0) assert.equal(durationSeconds(ms), (ms / 1000).toFixed(3));
  }
});
