// The proxy against real HTTP servers on 127.0.0.1, with a fixed table of endpoints in
// place of a backend: retries, round robin and error answers, deterministically.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { serve } from '@hono/node-server';
import { silentLogger } from '../../shared/logger.js';
import { createApp } from './app.js';
import type { Endpoint, Provider } from './providers/provider.js';

const table = new Map<string, Endpoint[]>();
// An empty change feed: desired replicas read as 0, so "no ready replica" is a 503 at once.
const provider = { endpoints: (name: string, ns: string) => table.get(`${name}.${ns}`), onChange: () => () => undefined } as unknown as Provider;
const servers: http.Server[] = [];
let gateway: ReturnType<typeof serve>;
let base: string;
/** The service's own server shape: node's raw request straight into the proxy. */
let fast: http.Server;
let fastBase: string;

async function upstream(name: string, handler?: http.RequestListener): Promise<string> {
  const server = http.createServer(handler ?? ((req, res) => res.end(JSON.stringify({ name, url: req.url, headers: req.headers }))));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
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
  // Through hono's own /function/* route (the service's server takes a shortcut around it).
  gateway = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((resolve) => gateway.once('listening', resolve));
  base = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
  // A long function timeout here, so only a cancelled call can close the replica's connection.
  const { proxy } = createApp({
    provider,
    log: silentLogger(),
    config: { adminUser: 'a', adminPassword: 'b', defaultNamespace: 'openfaas-fn', functionTimeoutMs: 60_000, maxReplicas: 5 },
  });
  fast = http.createServer(proxy);
  await new Promise<void>((resolve) => fast.listen(0, '127.0.0.1', resolve));
  fastBase = `http://127.0.0.1:${(fast.address() as AddressInfo).port}`;
});
after(async () => {
  gateway.close();
  fast.close();
  for (const s of servers) s.close();
});

test('round robin over the endpoints; the rest of the path and the query go along', async () => {
  table.set('rr.openfaas-fn', [
    { id: 'a', url: await upstream('a') },
    { id: 'b', url: await upstream('b') },
  ]);
  const names = [];
  for (let i = 0; i < 4; i++) {
    const body = await (await fetch(`${base}/function/rr/x/y?z=1`)).json();
    assert.equal(body.url, '/x/y?z=1');
    names.push(body.name);
  }
  assert.deepEqual(names, ['a', 'b', 'a', 'b']);
  assert.equal((await (await fetch(`${base}/function/rr?q=2`)).json()).url, '/?q=2');
});

test('a call without a body moves on to the next replica when one refuses the connection', async () => {
  table.set('half.openfaas-fn', [
    { id: 'dead', url: await deadUrl() },
    { id: 'live', url: await upstream('live') },
  ]);
  for (let i = 0; i < 4; i++) {
    const res = await fetch(`${base}/function/half`);
    assert.equal(res.status, 200);
    assert.equal((await res.json()).name, 'live');
  }
  // A call with a body is not replayed: it may have reached the replica.
  const statuses = [];
  for (let i = 0; i < 2; i++) statuses.push((await fetch(`${base}/function/half`, { method: 'POST', body: 'x' })).status);
  assert.deepEqual(statuses.sort(), [200, 502]);
});

test('404, 502, 503 and 504 answers say what happened', async () => {
  table.set('none.openfaas-fn', []);
  table.set('down.openfaas-fn', [{ id: 'd', url: await deadUrl() }]);
  table.set('slow.openfaas-fn', [{ id: 's', url: await upstream('slow', (_req, res) => setTimeout(() => res.end('late'), 1000)) }]);
  const cases: Array<[string, number, RegExp]> = [
    ['missing', 404, /function "missing" not found in namespace "openfaas-fn"/],
    ['none', 503, /no ready replica/],
    ['down', 502, /did not answer \(ECONNREFUSED\)/],
    ['slow', 504, /did not answer within 0.3 s/],
  ];
  for (const [name, status, text] of cases) {
    const res = await fetch(`${base}/function/${name}`);
    assert.equal(res.status, status, name);
    assert.match(await res.text(), text);
  }
});

test('response headers pass through except hop-by-hop ones; the call id comes back', async () => {
  table.set('hdr.openfaas-fn', [
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
  const res = await fetch(`${base}/function/hdr`, { headers: { 'x-call-id': 'id-1' } });
  assert.equal(res.headers.get('x-fn'), 'yes');
  assert.deepEqual(res.headers.getSetCookie(), ['a=1', 'b=2']);
  assert.equal(res.headers.get('x-secret-hop'), null);
  assert.equal(res.headers.get('x-call-id'), 'id-1');
  assert.equal(await res.text(), 'ok');
});

test('a client that goes away cancels the call to the function', async () => {
  let upstreamClosed: () => void;
  let upstreamReceived: () => void;
  const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
  const received = new Promise<void>((resolve) => (upstreamReceived = resolve));
  table.set('hang.openfaas-fn', [
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
  const call = fetch(`${fastBase}/function/hang`, { signal: client.signal }).catch(() => undefined);
  await received;
  // The gateway's connection to the replica closes once the call is cancelled.
  client.abort();
  await call;
  await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error('the call to the function was not cancelled')), 5000))]);
});
