// The proxy's wait for a replica, with the real change feed standing where a backend's
// would be (driven through observe, as backends drive it) and real HTTP servers as replicas.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { silentLogger } from '../../shared/logger.js';
import { createApp } from './app.js';
import { ChangeFeed } from './providers/change-feed.js';
import type { Endpoint, FunctionStatus, Provider } from './providers/provider.js';

const table = new Map<string, Endpoint[]>();
const feed = new ChangeFeed((name, ns) => table.get(`${name}.${ns}`), (err) => assert.fail(err as Error));
const provider = {
  endpoints: (name: string, ns: string) => table.get(`${name}.${ns}`),
  onChange: feed.onChange.bind(feed),
  waitUntilReady: feed.waitUntilReady.bind(feed),
} as unknown as Provider;
const status = (name: string, replicas: number): FunctionStatus => ({ name, namespace: 'fn', image: 'i', invocationCount: 0, replicas, availableReplicas: 0 });
let server: http.Server;
let replica: http.Server;
let base: string;
let replicaUrl: string;
/** Resolvers for calls the proxy has taken in (its `started` hook), by function. */
const arrived = new Map<string, () => void>();
const arrival = (fn: string) => new Promise<void>((resolve) => arrived.set(fn, resolve));

before(async () => {
  const { proxy } = createApp({
    provider,
    log: silentLogger(),
    config: { adminUser: 'a', adminPassword: 'b', defaultNamespace: 'fn', functionTimeoutMs: 1500, maxReplicas: 5 },
    observers: [{ started: (fn) => arrived.get(fn)?.(), called: () => undefined }],
  });
  server = http.createServer(proxy);
  replica = http.createServer((req, res) => req.pipe(res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => replica.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  replicaUrl = `http://127.0.0.1:${(replica.address() as AddressInfo).port}`;
});
after(() => {
  server.close();
  replica.close();
  feed.close();
});

test('at zero wanted replicas the call is refused at once', async () => {
  table.set('zero.fn', []);
  feed.observe('zero', 'fn', status('zero', 0));
  const res = await fetch(`${base}/function/zero`);
  assert.equal(res.status, 503);
  assert.match(await res.text(), /scaled to zero/);
});

test('a call to a starting function waits, body and all, and goes through once a replica is ready', async () => {
  table.set('slow.fn', []);
  feed.observe('slow', 'fn', status('slow', 1));
  const inside = arrival('slow.fn');
  const call = fetch(`${base}/function/slow`, { method: 'POST', body: 'held' });
  // Ready only after the proxy took the call in: it must have waited.
  await inside;
  table.set('slow.fn', [{ id: 'r', url: replicaUrl }]);
  feed.observe('slow', 'fn', status('slow', 1));
  const res = await call;
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'held');
});

test('no replica within the function timeout is a 503 saying so; a function removed meanwhile is a 404', async () => {
  table.set('never.fn', []);
  feed.observe('never', 'fn', status('never', 1));
  const late = await fetch(`${base}/function/never`);
  assert.equal(late.status, 503);
  assert.match(await late.text(), /no ready replica within 1.5 s/);

  const inside = arrival('never.fn');
  const waiting = fetch(`${base}/function/never`);
  await inside;
  table.delete('never.fn');
  feed.observe('never', 'fn', undefined);
  const gone = await waiting;
  assert.equal(gone.status, 404);
  assert.match(await gone.text(), /not found/);
});
