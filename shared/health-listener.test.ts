import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { Counter, Registry } from 'prom-client';
import { parsePromText, sampleValue } from '../test/helpers/prom-text.js';
import { startHealthListener } from './health-listener.js';
import { silentLogger } from './logger.js';

test('no port, no listener', async () => {
  const listener = await startHealthListener({ settings: { bind: '127.0.0.1' }, portVariable: 'GITFAAS_BUILDER_HEALTH_PORT', registry: new Registry(), log: silentLogger() });
  assert.equal(listener, undefined);
});

test('/healthz follows healthy(), /metrics serves the registry, other paths and methods are refused', async () => {
  const registry = new Registry();
  const counter = new Counter({ name: 'gitfaas_test_things_total', help: 'things', registers: [registry] });
  counter.inc(3);
  let healthy = true;
  const listener = await startHealthListener({ settings: { bind: '127.0.0.1', port: 0 }, portVariable: 'X_PORT', registry, log: silentLogger(), healthy: () => healthy });
  assert.ok(listener);
  try {
    assert.match(listener.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    let res = await fetch(`${listener.url}/healthz`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'OK\n');
    healthy = false;
    res = await fetch(`${listener.url}/healthz`);
    assert.equal(res.status, 503);
    await res.text();
    res = await fetch(`${listener.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    assert.equal(sampleValue(parsePromText(await res.text()), 'gitfaas_test_things_total'), 3);
    res = await fetch(`${listener.url}/other`);
    assert.equal(res.status, 404);
    assert.match(await res.text(), /serves \/healthz and \/metrics/);
    res = await fetch(`${listener.url}/metrics`, { method: 'POST' });
    assert.equal(res.status, 405);
    await res.text();
  } finally {
    await listener.stop();
  }
  await assert.rejects(fetch(`${listener.url}/healthz`), 'stopped: nothing listens any more');
});

test('a port in use fails the start with the variable named', async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const { port } = blocker.address() as AddressInfo;
  try {
    await assert.rejects(
      startHealthListener({ settings: { bind: '127.0.0.1', port }, portVariable: 'GITFAAS_DEPLOYER_HEALTH_PORT', registry: new Registry(), log: silentLogger() }),
      (err: Error) => err.message.includes(`cannot listen on 127.0.0.1:${port}`) && err.message.includes('GITFAAS_DEPLOYER_HEALTH_PORT'),
    );
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
  }
});
