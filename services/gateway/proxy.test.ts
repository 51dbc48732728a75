// The proxy against real HTTP servers on 127.0.0.1, with a fixed table of endpoints in
// place of a backend: retries, round robin and error answers, deterministically; through
// hono's /function/* route, through proxy.ts on node's http server, and through the fast plane.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { serve } from '@hono/node-server';
import { silentLogger } from '../../shared/logger.js';
import { fastPlaneCheck, listenProxy, PLANES, type ProxyServer } from '../../test/helpers/proxy-planes.js';
import { createApp } from './app.js';
import type { Endpoint, Provider } from './providers/provider.js';
import { Upstreams } from './upstreams.js';

const table = new Map<string, Endpoint[]>();
// An empty change feed: desired replicas read as 0, so "no ready replica" is a 503 at once.
const provider = { endpoints: (name: string, ns: string) => table.get(`${name}.${ns}`), onChange: () => () => undefined } as unknown as Provider;
const servers: http.Server[] = [];
/** One pool set per function timeout, as the service makes it (Upstreams times out the node plane's calls). */
const pools = [new Upstreams(300), new Upstreams(60_000)];
let gateway: ReturnType<typeof serve>;
/** Where each way in listens: hono's route, and each plane with a 0.3 s and a 60 s function timeout. */
const bases: Record<string, string> = {};
const planes: ProxyServer[] = [];

async function upstream(name: string, handler?: http.RequestListener): Promise<string> {
  const server = http.createServer(handler ?? ((req, res) => res.end(JSON.stringify({ name, url: req.url, headers: req.headers }))));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A GET on a connection of its own (one the fast plane hands to node stays there). */
function fresh(url: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve({ status: res.statusCode!, text }));
      })
      .on('error', reject);
  });
}

async function deadUrl(): Promise<string> {
  const url = await upstream('dead');
  const server = servers.pop()!;
  await new Promise((resolve) => server.close(resolve));
  return url;
}

before(async () => {
  const { app } = createApp({
    provider,
    log: silentLogger(),
    config: { adminUser: 'a', adminPassword: 'b', defaultNamespace: 'openfaas-fn', functionTimeoutMs: 300, maxReplicas: 5 },
  });
  gateway = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((resolve) => gateway.once('listening', resolve));
  bases.hono = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
  for (const plane of PLANES) {
    for (const upstreams of pools) {
      const timeoutMs = upstreams === pools[0] ? 300 : 60_000;
      const server = await listenProxy(plane, { provider, upstreams, observers: [], defaultNamespace: 'openfaas-fn', timeoutMs, log: silentLogger() });
      planes.push(server);
      bases[`${plane}-${timeoutMs}`] = server.base;
    }
  }
});
after(async () => {
  gateway.close();
  for (const plane of planes) plane.close();
  for (const s of servers) s.closeAllConnections(), s.close();
  for (const upstreams of pools) await upstreams.close();
});

for (const way of ['hono', ...PLANES]) {
  describe(way, () => {
    let base: string;
    before(() => {
      base = bases[way === 'hono' ? 'hono' : `${way}-300`];
    });
    if (way === 'fast') {
      // 404 and 503 are node's side's answers (each on a connection of its own).
      const check = fastPlaneCheck(() => planes.find((p) => p.base === base)!, new Set(['404, 502, 503 and 504 answers say what happened']));
      beforeEach(check.beforeEach);
      afterEach(check.afterEach);
    }

    test('round robin over the endpoints; the rest of the path and the query go along', async () => {
      table.set(`${way}-rr.openfaas-fn`, [
        { id: 'a', url: await upstream('a') },
        { id: 'b', url: await upstream('b') },
      ]);
      const names = [];
      for (let i = 0; i < 4; i++) {
        const body = await (await fetch(`${base}/function/${way}-rr/x/y?z=1`)).json();
        assert.equal(body.url, '/x/y?z=1');
        names.push(body.name);
      }
      assert.deepEqual(names, ['a', 'b', 'a', 'b']);
      assert.equal((await (await fetch(`${base}/function/${way}-rr?q=2`)).json()).url, '/?q=2');
    });

    test('a call without a body moves on to the next replica when one refuses the connection', async () => {
      table.set(`${way}-half.openfaas-fn`, [
        { id: 'dead', url: await deadUrl() },
        { id: 'live', url: await upstream('live') },
      ]);
      for (let i = 0; i < 4; i++) {
        const res = await fetch(`${base}/function/${way}-half`);
        assert.equal(res.status, 200);
        assert.equal((await res.json()).name, 'live');
      }
      // A call with a body is not replayed: it may have reached the replica.
      const statuses = [];
      for (let i = 0; i < 2; i++) statuses.push((await fetch(`${base}/function/${way}-half`, { method: 'POST', body: 'x' })).status);
      assert.deepEqual(statuses.sort(), [200, 502]);
    });

    test('404, 502, 503 and 504 answers say what happened', async () => {
      table.set(`${way}-none.openfaas-fn`, []);
      table.set(`${way}-down.openfaas-fn`, [{ id: 'd', url: await deadUrl() }]);
      table.set(`${way}-slow.openfaas-fn`, [{ id: 's', url: await upstream('slow', (_req, res) => setTimeout(() => res.end('late'), 1000)) }]);
      const cases: Array<[string, number, RegExp]> = [
        ['missing', 404, /function "missing" not found in namespace "openfaas-fn"/],
        ['none', 503, /no ready replica/],
        ['down', 502, /did not answer \(ECONNREFUSED\)/],
        ['slow', 504, /did not answer within 0.3 s/],
      ];
      for (const [name, status, text] of cases) {
        const res = await fresh(`${base}/function/${name === 'missing' ? name : `${way}-${name}`}`);
        assert.equal(res.status, status, name);
        assert.match(res.text, text);
      }
    });

    test('response headers pass through except hop-by-hop ones; the call id comes back', async () => {
      table.set(`${way}-hdr.openfaas-fn`, [
        {
          id: 'h',
          url: await upstream('hdr', (_req, res) => {
            res.setHeader('x-fn', 'yes');
            res.setHeader('set-cookie', ['a=1', 'b=2']);
            res.setHeader('connection', 'keep-alive, x-secret-hop');
            res.setHeader('x-secret-hop', 'no');
            res.end('ok');
          }),
        },
      ]);
      const res = await fetch(`${base}/function/${way}-hdr`, { headers: { 'x-call-id': 'id-1' } });
      assert.equal(res.headers.get('x-fn'), 'yes');
      assert.deepEqual(res.headers.getSetCookie(), ['a=1', 'b=2']);
      assert.equal(res.headers.get('x-secret-hop'), null);
      assert.equal(res.headers.get('x-call-id'), 'id-1');
      assert.equal(await res.text(), 'ok');
    });
  });
}

for (const plane of PLANES) {
  test(`${plane}: a client that goes away cancels the call to the function`, async () => {
    let upstreamClosed: () => void;
    let upstreamReceived: () => void;
    const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
    const received = new Promise<void>((resolve) => (upstreamReceived = resolve));
    table.set(`${plane}-hang.openfaas-fn`, [
      {
        id: 'hang',
        url: await upstream('hang', (req) => {
          req.resume();
          req.socket.once('close', () => upstreamClosed());
          upstreamReceived();
        }),
      },
    ]);
    const client = new AbortController();
    const call = fetch(`${bases[`${plane}-60000`]}/function/${plane}-hang`, { signal: client.signal }).catch(() => undefined);
    await received;
    // The gateway's connection to the replica closes once the call is cancelled.
    client.abort();
    await call;
    await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error('the call to the function was not cancelled')), 5000))]);
  });
}
