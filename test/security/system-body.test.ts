// §6 of issue 8: /system/* used to read an authenticated body of any size whole (100 MB).
// Bodies over GITFAAS_SYSTEM_BODY_LIMIT_BYTES are answered 413 without being read to the end.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { call, deployment } from '../gateway/client.js';

const LIMIT = 64 * 1024;
let gw: TestGateway;
before(async () => {
  gw = await startTestGateway({ env: { GITFAAS_SYSTEM_BODY_LIMIT_BYTES: String(LIMIT) } });
});
after(() => gw?.stop());

interface Sent {
  status: number;
  body: string;
  /** Bytes written before the answer came. */
  written: number;
}

/**
 * Sends a body of `total` bytes in 16 kB chunks, waiting for each to drain, and stops
 * writing as soon as an answer arrives: a server that reads everything answers only after
 * the last byte, one that refuses early answers long before.
 */
function send(path: string, total: number, headers: Record<string, string>): Promise<Sent> {
  const url = new URL(path, gw.url);
  return new Promise((resolve, reject) => {
    let written = 0;
    let answered = false;
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      answered = true;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body, written }));
      res.on('error', reject);
    });
    // The server may close the connection while we still write: that is the point.
    req.on('error', (err) => (answered ? undefined : reject(err)));
    const chunk = Buffer.alloc(16 * 1024, 0x20);
    const pump = () => {
      while (!answered && written < total) {
        written += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      if (!answered) req.end();
    };
    pump();
  });
}

test('a declared body over the limit is refused 413 before it is read', async () => {
  const total = 100 * 1024 * 1024;
  const res = await send('/system/functions', total, { authorization: gw.authHeader, 'content-length': String(total) });
  assert.equal(res.status, 413, res.body);
  assert.match(res.body, new RegExp(`at most ${LIMIT} bytes \\(GITFAAS_SYSTEM_BODY_LIMIT_BYTES\\)`));
  assert.ok(res.written < total / 4, `answered after ${res.written} of ${total} bytes`);
});

test('a chunked body (no length) is cut off once it passes the limit', async () => {
  const total = 100 * 1024 * 1024;
  const res = await send('/system/secrets', total, { authorization: gw.authHeader });
  assert.equal(res.status, 413, res.body);
  assert.ok(res.written < total / 4, `answered after ${res.written} of ${total} bytes`);
});

test('an anonymous sender is told 401 first, and bodies under the limit still work', async () => {
  const anonymous = await send('/system/functions', 1024 * 1024, { 'content-length': String(1024 * 1024) });
  assert.equal(anonymous.status, 401);
  // Just under the limit: parsed (and refused for its content, not its size).
  const padded = { ...deployment(gw, 'x', 'Not A Reference'), pad: 'p'.repeat(LIMIT - 200) };
  const res = await call(gw, 'POST', '/system/functions', padded);
  assert.equal(res.status, 400, res.text);
  assert.match(res.text, /image: /);
  assert.equal((await fetch(`${gw.url}/healthz`)).status, 200);
});
