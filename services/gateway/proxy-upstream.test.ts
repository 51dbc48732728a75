// The proxy against upstreams that speak HTTP/1.x loosely or unusually, written byte by byte
// on raw sockets: bare-LF line ends, no Content-Length, HTTP/1.0, trailers, ambiguous framing
// (which must fail), and the same smuggling attempts from the client side; on both data planes.
import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { silentLogger } from '../../shared/logger.js';
import { waitFor } from '../../test/helpers/wait.js';
import { fastPlaneCheck, listenProxy, PLANES, type ProxyServer } from '../../test/helpers/proxy-planes.js';
import { lenientUpstreamsWork } from './lenient-upstream.js';
import type { Endpoint, Provider } from './providers/provider.js';
import { Upstreams } from './upstreams.js';

const table = new Map<string, Endpoint[]>();
// An empty change feed: desired replicas read as 0, so "no ready replica" is a 503 at once.
const provider = { endpoints: (name: string, ns: string) => table.get(`${name}.${ns}`), onChange: () => () => undefined } as unknown as Provider;
const closers: Array<() => void> = [];
const upstreams = new Upstreams(10_000);
/** The gateway of the plane under test. */
let gatewayPort: number;
/** Requests each raw upstream received, by function name. */
const received = new Map<string, string[]>();

/** A replica that answers every request on a connection with `answer` (raw bytes), then maybe closes. */
async function raw(name: string, answer: string, close = false): Promise<void> {
  received.set(name, []);
  const server = net.createServer((socket) => {
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      // One request per blank line is enough for bodyless test requests.
      while (buffered.includes('\r\n\r\n')) {
        const end = buffered.indexOf('\r\n\r\n') + 4;
        received.get(name)!.push(buffered.slice(0, end));
        buffered = buffered.slice(end);
        if (close) socket.end(answer);
        else socket.write(answer);
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => server.close());
  table.set(`${name}.fn`, [{ id: name, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }]);
}

/** Sends raw bytes to the gateway and returns everything it answers until it closes or `until` matches. */
function send(bytes: string, until?: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(gatewayPort, '127.0.0.1', () => socket.write(bytes));
    let answer = '';
    const timer = setTimeout(() => (socket.destroy(), reject(new Error(`no complete answer; got: ${JSON.stringify(answer)}`))), 5000);
    socket.on('data', (c) => {
      answer += c.toString('latin1');
      if (until?.test(answer)) (clearTimeout(timer), socket.destroy(), resolve(answer));
    });
    socket.on('end', () => (clearTimeout(timer), resolve(answer)));
    socket.on('error', reject);
  });
}

after(async () => {
  for (const close of closers) close();
  await upstreams.close();
});

const get = async (name: string, init?: RequestInit) => {
  const res = await fetch(`http://127.0.0.1:${gatewayPort}/function/${name}`, init);
  return { status: res.status, headers: res.headers, body: await res.text() };
};

for (const plane of PLANES) {
  describe(plane, () => {
    let gateway: ProxyServer;
    before(async () => {
      gateway = await listenProxy(plane, { provider, upstreams, observers: [], defaultNamespace: 'fn', timeoutMs: 10_000, log: silentLogger() });
      gatewayPort = gateway.port;
    });
    after(() => gateway.close());
    if (plane === 'fast') {
      // The rest are the fast plane's own; these go to node's http server by design.
      const check = fastPlaneCheck(() => gateway, new Set([
        'smuggling attempts from a client are refused before any replica sees them',
        'Expect: 100-continue gets its interim answer, then the body goes through',
        'a head split across reads, a head of 40 header lines, HEAD and an HTTP/1.0 client are all answered',
        'every call is counted out of the replicas once answered',
        'a request node must answer, then a call, on one connection: both answered in order',
        'an HTTP/1.1 request without Host is a 400, and no replica sees it',
      ]));
      beforeEach(check.beforeEach);
      afterEach(check.afterEach);
    }

    test('a replica whose header lines end with a bare LF is answered, twice on one connection', async () => {
      await raw('barelf', 'HTTP/1.1 200 OK\nContent-Type: text/plain\nX-Fn: yes\nContent-Length: 5\n\nhello');
      for (let i = 0; i < 2; i++) {
        const res = await get('barelf');
        assert.equal(res.status, 200);
        assert.equal(res.body, 'hello');
        assert.equal(res.headers.get('x-fn'), 'yes');
      }
      assert.equal(received.get('barelf')!.length, 2);
      assert.ok(lenientUpstreamsWork());
    });

    test('a replica that sends no Content-Length and closes: the whole body, chunked to the client', async () => {
      await raw('eof', 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end', true);
      const answer = await send('GET /function/eof HTTP/1.1\r\nHost: x\r\n\r\n', /0\r\n\r\n$/);
      assert.match(answer, /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(answer, /transfer-encoding: chunked/i);
      assert.match(answer, /until the end/);
    });

    test('a replica that sends more than its Content-Length: each answer ends at its length, and a pipelined call after it is still answered', async () => {
      await raw('over', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA');
      // The second call has a body: it is not retried, so it must not be sent on the connection the first one spoiled.
      const answer = await send('GET /function/over HTTP/1.1\r\nHost: x\r\n\r\nPOST /function/over HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi', /(HTTP\/1\.1 [^]*){2}\r\n\r\n..$/);
      const answers = answer.split(/(?=HTTP\/1\.1 )/);
      assert.equal(answers.length, 2, answer);
      for (const one of answers) {
        assert.match(one, /^HTTP\/1\.1 200 OK\r\n/);
        assert.ok(one.endsWith('\r\n\r\nok'), JSON.stringify(one));
      }
      assert.equal((await get('over')).body, 'ok');
    });

    test('an HTTP/1.1 request without Host is a 400, and no replica sees it', async () => {
      await raw('nohost', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      const answer = await send('GET /function/nohost HTTP/1.1\r\n\r\n', /\r\n\r\n/);
      assert.match(answer, /^HTTP\/1\.1 400 /);
      assert.equal(received.get('nohost')!.length, 0);
    });

    test('an HTTP/1.0 replica, with and without Content-Length', async () => {
      await raw('old', 'HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nold', true);
      await raw('older', 'HTTP/1.0 201 Created\r\n\r\nolder', true);
      assert.deepEqual([(await get('old')).body, (await get('old')).body], ['old', 'old']);
      const res = await get('older');
      assert.equal(res.status, 201);
      assert.equal(res.body, 'older');
    });

    test('trailers from the replica reach the client', async () => {
      await raw('trailers', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n5\r\nhello\r\n0\r\nX-Checksum: abc\r\n\r\n');
      const answer = await send('GET /function/trailers HTTP/1.1\r\nHost: x\r\nTE: trailers\r\n\r\n', /\r\n\r\n[\s\S]*0\r\n[\s\S]*\r\n\r\n$/);
      assert.match(answer, /trailer: X-Checksum/i);
      assert.match(answer, /5\r\nhello\r\n0\r\nX-Checksum: abc\r\n\r\n$/i);
    });

    test('ambiguous framing from a replica is a 502, never a guess', async () => {
      await raw('clte', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
      await raw('dupcl', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd');
      // Bare-LF leniency does not loosen framing.
      await raw('clte-lf', 'HTTP/1.1 200 OK\nContent-Length: 3\nTransfer-Encoding: chunked\n\n3\nabc\n0\n\n');
      for (const name of ['clte', 'dupcl', 'clte-lf']) assert.equal((await get(name)).status, 502, name);
    });

    test('smuggling attempts from a client are refused before any replica sees them', async () => {
      await raw('target', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      const clte = await send('POST /function/target HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /function/target HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.match(clte, /^HTTP\/1\.1 400/);
      const dupcl = await send('POST /function/target HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 30\r\n\r\nx');
      assert.match(dupcl, /^HTTP\/1\.1 400/);
      const barelf = await send('GET /function/target HTTP/1.1\nHost: x\n\n');
      assert.match(barelf, /^HTTP\/1\.1 400/);
      assert.equal(received.get('target')!.length, 0);
    });

    test('Expect: 100-continue gets its interim answer, then the body goes through', async () => {
      await raw('expect', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      const socket = net.connect(gatewayPort, '127.0.0.1');
      let answer = '';
      socket.on('data', (c) => (answer += c.toString('latin1')));
      socket.write('POST /function/expect HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n');
      const deadline = Date.now() + 5000;
      while (!answer.includes('100 Continue') && Date.now() < deadline) await new Promise((r) => socket.once('data', r));
      assert.match(answer, /^HTTP\/1\.1 100 Continue\r\n\r\n/);
      socket.write('body');
      while (!answer.endsWith('ok') && Date.now() < deadline) await new Promise((r) => socket.once('data', r));
      socket.destroy();
      assert.match(answer, /HTTP\/1\.1 200 OK[\s\S]*ok$/);
      assert.doesNotMatch(received.get('expect')![0], /expect:/i);
    });

    test('pipelined requests are answered in order, each by the replica', async () => {
      await raw('pipe', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      const one = 'GET /function/pipe/1 HTTP/1.1\r\nHost: x\r\n\r\n';
      const answer = await send(one + one.replace('/1', '/2') + one.replace('/1', '/3'), /(HTTP\/1\.1 200 OK[\s\S]*?ok){3}/);
      assert.equal(answer.match(/HTTP\/1\.1 200 OK/g)?.length, 3);
      assert.deepEqual(received.get('pipe')!.map((head) => head.split(' ')[1]), ['/1', '/2', '/3']);
    });

    test('a head split across reads, a head of 40 header lines, HEAD and an HTTP/1.0 client are all answered', async () => {
      await raw('shapes', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      // Split: the gateway must wait for the rest of the head.
      const socket = net.connect(gatewayPort, '127.0.0.1');
      let split = '';
      socket.on('data', (c) => (split += c.toString('latin1')));
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.setNoDelay(true);
      // Each half leaves as its own segment; the gateway most likely reads them apart (either way it must answer).
      await new Promise((resolve) => socket.write('GET /function/shapes HTTP/1.1\r\nHo', resolve));
      socket.write('st: x\r\nX-Late: 1\r\n\r\n');
      await waitFor('the answer to a split head', async () => split.endsWith('ok'), 5000, 10);
      socket.destroy();
      assert.match(split, /^HTTP\/1\.1 200 OK/);
      const many = Array.from({ length: 40 }, (_, i) => `X-H${i}: v${i}\r\n`).join('');
      assert.match(await send(`GET /function/shapes HTTP/1.1\r\nHost: x\r\n${many}\r\n`, /ok$/), /^HTTP\/1\.1 200 OK/);
      assert.match(received.get('shapes')!.at(-1)!, /x-h39: v39/i);
      const head = await send('HEAD /function/shapes HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      assert.match(head, /^HTTP\/1\.1 200 OK/);
      assert.ok(head.endsWith('\r\n\r\n'), `HEAD answered with a body: ${JSON.stringify(head)}`);
      const old = await send('GET /function/shapes HTTP/1.0\r\nHost: x\r\n\r\n');
      assert.match(old, /^HTTP\/1\.1 200 OK[\s\S]*\r\n\r\nok$/);
      assert.match(received.get('shapes')![0], /x-late: 1/i);
    });

    test('Connection: close from the client: the answer says so and the connection ends', async () => {
      await raw('bye', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nbye');
      const answer = await send('GET /function/bye HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      assert.match(answer, /connection: close/i);
      assert.ok(answer.endsWith('bye'));
    });

    test('informational answers stay with the gateway; 204 and 304 end without a body and the connection goes on', async () => {
      await raw('hints', 'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      await raw('nobody', 'HTTP/1.1 204 No Content\r\nX-Fn: 1\r\n\r\n');
      await raw('same', 'HTTP/1.1 304 Not Modified\r\nETag: "1"\r\n\r\n');
      const hints = await get('hints');
      assert.deepEqual([hints.status, hints.body], [200, 'ok']);
      const one = (name: string) => `GET /function/${name} HTTP/1.1\r\nHost: x\r\n\r\n`;
      const answer = await send(one('nobody') + one('same') + one('nobody').replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n'));
      assert.deepEqual(answer.match(/^HTTP\/1\.1 \d+/gm), ['HTTP/1.1 204', 'HTTP/1.1 304', 'HTTP/1.1 204']);
      assert.doesNotMatch(answer, /transfer-encoding/i);
    });

    test('a replica that closes each kept-alive connection after answering: every call still succeeds (a stale pooled connection is retried)', async () => {
      // It says nothing about closing: the gateway learns only when it reuses the connection.
      await raw('closer', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', true);
      const statuses = [];
      for (let i = 0; i < 10; i++) statuses.push((await get('closer')).status);
      assert.deepEqual(statuses, Array(10).fill(200));
    });

    test('an answer with 40 header lines keeps every one', async () => {
      const many = Array.from({ length: 40 }, (_, i) => `X-R${i}: v${i}\r\n`).join('');
      await raw('wide', `HTTP/1.1 200 OK\r\n${many}Content-Length: 2\r\n\r\nok`);
      const res = await get('wide');
      assert.equal(res.body, 'ok');
      for (let i = 0; i < 40; i++) assert.equal(res.headers.get(`x-r${i}`), `v${i}`);
    });

    test('a request node must answer, then a call, on one connection: both answered in order', async () => {
      await raw('after', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nafter');
      const answer = await send('GET /function/nowhere HTTP/1.1\r\nHost: x\r\n\r\nGET /function/after HTTP/1.1\r\nHost: x\r\n\r\n', /after$/);
      assert.match(answer, /^HTTP\/1\.1 404[\s\S]*HTTP\/1\.1 200 OK[\s\S]*after$/);
    });

    test('every call is counted out of the replicas once answered', async () => {
      for (const endpoints of table.values()) for (const endpoint of endpoints) assert.ok(upstreams.isIdle(endpoint.id), `${endpoint.id} still has calls in flight`);
    });
  });
}
