// The proxy's fast paths against real HTTP servers on 127.0.0.1: raw header copying,
// streaming both ways with backpressure, observers, and cancelling a streaming call; on both
// data planes.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { silentLogger } from '../../shared/logger.js';
import { fastPlaneCheck, listenProxy, PLANES, type ProxyServer } from '../../test/helpers/proxy-planes.js';
import { waitFor } from '../../test/helpers/wait.js';
import type { Endpoint, Provider } from './providers/provider.js';
import { Upstreams } from './upstreams.js';

const table = new Map<string, Endpoint[]>();
// An empty change feed: desired replicas read as 0, so "no ready replica" is a 503 at once.
const provider = { endpoints: (name: string, ns: string) => table.get(`${name}.${ns}`), onChange: () => () => undefined } as unknown as Provider;
const calls: Array<[string, number]> = [];
const servers: http.Server[] = [];
const upstreams = new Upstreams(60_000);
let base: string;

async function listen(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A GET on a connection of its own; its status once the answer is read. */
function statusOf(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent: false }, (res) => res.resume().on('end', () => resolve(res.statusCode!))).on('error', reject);
  });
}

async function fn(name: string, handler: http.RequestListener): Promise<void> {
  table.set(`${name}.fn`, [{ id: name, url: await listen(handler) }]);
}

after(async () => {
  for (const s of servers) s.closeAllConnections(), s.close();
  await upstreams.close();
});

for (const plane of PLANES) {
  describe(plane, () => {
    let gateway: ProxyServer;
    before(async () => {
      gateway = await listenProxy(plane, { provider, upstreams, observers: [{ called: (f, status) => calls.push([f, status]) }], defaultNamespace: 'fn', timeoutMs: 60_000, log: silentLogger() });
      base = gateway.base;
    });
    after(() => gateway.close());
    if (plane === 'fast') {
      // A chunked request body, and answers from node's side (404, 503), go to node's http server by design.
      const check = fastPlaneCheck(() => gateway, new Set(['a body streams to the function and back while the client is still sending', 'observers hear of every answered call with its status']));
      beforeEach(check.beforeEach);
      afterEach(check.afterEach);
    }

    test('request headers: hop-by-hop ones dropped, X-Forwarded-* appended, X-Call-Id kept or made', async () => {
      await fn('hdr', (req, res) => res.end(JSON.stringify(req.headers)));
      const seen = await new Promise<Record<string, string>>((resolve, reject) => {
        const req = http.request(`${base}/function/hdr`, {
          headers: { 'x-forwarded-for': '10.1.1.1', 'x-call-id': 'given', connection: 'keep-alive, x-hop', 'x-hop': 'no', 'x-start-time': '1', 'x-end': 'yes', host: 'alice.example.com' },
        });
        req.on('response', (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (c) => (body += c)).on('end', () => resolve(JSON.parse(body)));
        });
        req.on('error', reject).end();
      });
      assert.equal(seen['x-forwarded-for'], '10.1.1.1, 127.0.0.1');
      assert.equal(seen['x-forwarded-host'], 'alice.example.com');
      assert.equal(seen['x-call-id'], 'given');
      assert.equal(seen['x-hop'], undefined);
      assert.equal(seen['x-end'], 'yes');
      assert.match(seen['x-start-time'], /^\d{13}000000$/);
      assert.notEqual(seen.host, 'alice.example.com');
      const made = await fetch(`${base}/function/hdr`);
      assert.match(made.headers.get('x-call-id') ?? '', /^[0-9a-f-]{36}$/);
      assert.equal((await made.json())['x-call-id'], made.headers.get('x-call-id'));
    });

    test('a body streams to the function and back while the client is still sending', async () => {
      let firstBytes: () => void;
      const arrived = new Promise<void>((resolve) => (firstBytes = resolve));
      await fn('echo', (req, res) => {
        req.once('data', () => firstBytes());
        req.pipe(res);
      });
      const hash = createHash('sha256');
      const sent = createHash('sha256');
      let received = 0;
      const done = new Promise<void>((resolve, reject) => {
        // A connection of its own: it goes to node's http server and stays there.
        const req = http.request(`${base}/function/echo`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' }, agent: false });
        req.on('response', (res) => res.on('data', (c: Buffer) => (hash.update(c), (received += c.length))).on('end', resolve));
        req.on('error', reject);
        const chunk = Buffer.alloc(1 << 20, 7);
        req.write(chunk);
        sent.update(chunk);
        // Only once the function has the first megabyte does the rest follow.
        void arrived.then(() => {
          for (let i = 0; i < 15; i++) (req.write(chunk), sent.update(chunk));
          req.end();
        });
      });
      await done;
      assert.equal(received, 16 << 20);
      assert.equal(hash.digest('hex'), sent.digest('hex'));
    });

    test('a slow reader holds the function back (backpressure), then gets every byte', async () => {
      const total = 256 << 20;
      const state = { written: 0, blocked: false };
      await fn('big', (_req, res) => {
        const chunk = Buffer.alloc(1 << 16, 1);
        const pump = () => {
          while (state.written < total) {
            state.written += chunk.length;
            if (!res.write(chunk)) {
              state.blocked = true;
              res.once('drain', () => ((state.blocked = false), pump()));
              return;
            }
          }
          res.end();
        };
        pump();
      });
      const res = await new Promise<http.IncomingMessage>((resolve, reject) => http.get(`${base}/function/big`, resolve).on('error', reject));
      res.pause();
      // Nobody reads: the function must stall long before it has written everything.
      await waitFor('the function to be held back', async () => state.blocked && state.written < 64 << 20, 10_000, 20);
      let received = 0;
      res.on('data', (c: Buffer) => (received += c.length));
      res.resume();
      await new Promise((resolve) => res.on('end', resolve));
      assert.equal(received, total);
    });

    test('observers hear of every answered call with its status', async () => {
      await fn('obs', (req, res) => ((res.statusCode = Number(new URL(req.url!, 'http://x').searchParams.get('s'))), res.end()));
      table.set('empty.fn', []);
      calls.length = 0;
      await (await fetch(`${base}/function/obs?s=201`)).text();
      await (await fetch(`${base}/function/obs?s=500`)).text();
      // The namespace spelled out: the same function, the same key for the observers.
      await (await fetch(`${base}/function/obs.fn?s=202`)).text();
      // On connections of their own: node's side answers these, and keeps the connection.
      await statusOf(`${base}/function/empty`);
      await statusOf(`${base}/function/absent`);
      assert.deepEqual(calls, [['obs.fn', 201], ['obs.fn', 500], ['obs.fn', 202], ['empty.fn', 503]]);
    });

    test('a client that goes away mid-response cancels the streaming call', async () => {
      let closed: () => void;
      const upstreamClosed = new Promise<void>((resolve) => (closed = resolve));
      await fn('stream', (req, res) => {
        req.socket.once('close', () => closed());
        res.write('first');
      });
      const res = await new Promise<http.IncomingMessage>((resolve, reject) => http.get(`${base}/function/stream`, resolve).on('error', reject));
      await new Promise((resolve) => res.once('data', resolve));
      res.destroy();
      await Promise.race([upstreamClosed, new Promise((_, reject) => setTimeout(() => reject(new Error('the streaming call was not cancelled')), 5000))]);
    });

    test('a body that comes whole in one chunk leaves with its head in one end(), Content-Length kept', async () => {
      const body = JSON.stringify({ hello: 'world', pad: 'x'.repeat(300) });
      await fn('whole', (_req, res) => res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body));
      for (let i = 0; i < 3; i++) {
        const res = await new Promise<http.IncomingMessage>((resolve, reject) => http.get(`${base}/function/whole`, resolve).on('error', reject));
        let received = '';
        res.setEncoding('utf8').on('data', (c: string) => (received += c));
        await new Promise((resolve) => res.on('end', resolve));
        assert.equal(res.headers['content-length'], String(Buffer.byteLength(body)));
        assert.equal(res.headers['transfer-encoding'], undefined);
        assert.equal(received, body);
      }
    });

    test('a Content-Length body that comes in parts is not held back: the first part reaches the client before the rest is sent', async () => {
      let sendRest: () => void;
      const restAllowed = new Promise<void>((resolve) => (sendRest = resolve));
      await fn('parts', (_req, res) => {
        res.writeHead(200, { 'content-length': 10 });
        res.write('first');
        void restAllowed.then(() => res.end('later'));
      });
      const res = await new Promise<http.IncomingMessage>((resolve, reject) => http.get(`${base}/function/parts`, resolve).on('error', reject));
      res.setEncoding('utf8');
      // The function sends the rest only once the client holds the first part: held back, this times out.
      const first = await Promise.race([
        new Promise<string>((resolve) => res.once('data', resolve)),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the first part was held back')), 10_000)),
      ]);
      assert.equal(first, 'first');
      let rest = '';
      res.on('data', (c: string) => (rest += c));
      sendRest!();
      await new Promise((resolve) => res.on('end', resolve));
      assert.equal(first + rest, 'firstlater');
    });

    test('a Content-Length body streams to the function and back while the client is still sending', async () => {
      let firstBytes: () => void;
      const arrived = new Promise<void>((resolve) => (firstBytes = resolve));
      await fn('echo-cl', (req, res) => {
        req.once('data', () => firstBytes());
        req.pipe(res);
      });
      const chunk = Buffer.alloc(1 << 20, 9);
      let received = 0;
      const done = new Promise<number>((resolve, reject) => {
        const req = http.request(`${base}/function/echo-cl`, { method: 'PUT', headers: { 'content-length': 16 << 20 } });
        req.on('response', (res) => res.on('data', (c: Buffer) => (received += c.length)).on('end', () => resolve(res.statusCode!)));
        req.on('error', reject);
        req.write(chunk);
        void arrived.then(() => {
          for (let i = 0; i < 15; i++) req.write(chunk);
          req.end();
        });
      });
      assert.equal(await done, 200);
      assert.equal(received, 16 << 20);
    });

    test('a client that goes away before the answer is counted as 499, and the replica is told', async () => {
      let closed: () => void;
      const upstreamClosed = new Promise<void>((resolve) => (closed = resolve));
      let reached: () => void;
      const arrived = new Promise<void>((resolve) => (reached = resolve));
      await fn('gone', (req) => {
        req.socket.once('close', () => closed());
        reached();
      });
      calls.length = 0;
      const client = new AbortController();
      const call = fetch(`${base}/function/gone`, { signal: client.signal }).catch(() => undefined);
      await arrived;
      client.abort();
      await call;
      await Promise.race([upstreamClosed, new Promise((_, reject) => setTimeout(() => reject(new Error('the call was not cancelled')), 5000))]);
      await waitFor('the 499 to be observed', async () => calls.length > 0, 5000, 10);
      assert.deepEqual(calls, [['gone.fn', 499]]);
    });

    test('a client that hangs up just as its answer comes leaves no replica connection paused in the pool', async () => {
      // The replica has the caller close its connection, then answers at once: the gateway reads the
      // answer after it has seen the client's end but before the close is final, and its write to
      // the client fails (wrk's connections at the end of a run did this). Pooled while paused for
      // that client, the replica connection would take the next call and never read its answer.
      let caller: net.Socket | undefined;
      await fn('hangup', (_req, res) => {
        caller?.destroy();
        caller = undefined;
        res.end(Buffer.alloc(8 << 10, 1));
      });
      const socket = net.connect(gateway.port, '127.0.0.1');
      socket.on('error', () => undefined);
      await new Promise((resolve) => socket.once('connect', resolve));
      caller = socket;
      const closed = new Promise((resolve) => socket.once('close', resolve));
      socket.write('GET /function/hangup HTTP/1.1\r\nHost: x\r\n\r\n');
      socket.resume();
      await closed;
      const sizes = await Promise.race([
        Promise.all(Array.from({ length: 4 }, () => fetch(`${base}/function/hangup`).then(async (r) => (await r.arrayBuffer()).byteLength))),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('a call after the hang-up was not answered within 5 s')), 5000)),
      ]);
      assert.deepEqual(sizes, [8 << 10, 8 << 10, 8 << 10, 8 << 10]);
    });

    test('an answer head the function flushes before any body reaches the client at once', async () => {
      let finish: () => void;
      const finishAllowed = new Promise<void>((resolve) => (finish = resolve));
      await fn('headfirst', (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.flushHeaders();
        void finishAllowed.then(() => res.end('data: done\n\n'));
      });
      // The function ends only once the client holds the head: held back, this times out.
      const res = await Promise.race([
        new Promise<http.IncomingMessage>((resolve, reject) => http.get(`${base}/function/headfirst`, resolve).on('error', reject)),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the head was held back')), 5000)),
      ]);
      assert.equal(res.headers['content-type'], 'text/event-stream');
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      finish!();
      await new Promise((resolve) => res.on('end', resolve));
      assert.equal(body, 'data: done\n\n');
    });
  });
}
