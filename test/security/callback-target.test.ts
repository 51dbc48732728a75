// §5 of issue 8: X-Callback-Url could point anywhere, so any caller could make the
// queue-worker POST to the platform's own services or to cloud metadata. Refused by default:
// platform endpoints (on any loopback address), the gateway's /system, link-local and
// unspecified addresses; checked at enqueue time where the URL tells (400), and on every
// resolved address at connect time. No traffic goes anywhere but 127.0.0.1: refusals of
// link-local addresses are shown to happen before any socket is opened, with a stand-in
// resolver.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { Agent, type buildConnector } from 'undici';
import { CallbackRefused, callbackPolicy, callbackPolicyEnv, refusedAddress, refusedCallbackUrl } from '../../shared/callback-policy.js';
import { postCallback, type CallbackMessage } from '../../services/queue-worker/callback.js';
import { guardedConnector, type Resolve } from '../../services/queue-worker/callback-connector.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const envOf = (deny?: string, allow?: string) => ({
  GITFAAS_CALLBACK_DENY: callbackPolicyEnv.GITFAAS_CALLBACK_DENY.parse(deny),
  GITFAAS_CALLBACK_ALLOW: callbackPolicyEnv.GITFAAS_CALLBACK_ALLOW.parse(allow),
});
const policy = callbackPolicy(envOf(), { host: '127.0.0.1', port: 8080 }, ['nats://127.0.0.1:4223']);

test('the address check: link-local, unspecified and platform endpoints refused, other loopback ports allowed', () => {
  const refused: Array<[string, number, RegExp]> = [
    ['169.254.169.254', 80, /link-local \(metadata\)/],
    ['169.254.0.1', 8080, /link-local/],
    ['::ffff:169.254.169.254', 80, /link-local/],
    ['::ffff:a9fe:a9fe', 80, /link-local/],
    ['fe80::1', 80, /link-local/],
    ['0.0.0.0', 9000, /unspecified/],
    ['::', 9000, /unspecified/],
    ['127.0.0.1', 6379, /platform endpoint/],
    ['127.0.0.2', 6379, /platform endpoint/],
    ['::1', 4222, /platform endpoint/],
    ['::ffff:127.0.0.1', 8222, /platform endpoint/],
    ['127.0.0.1', 5000, /platform endpoint/],
    ['127.0.0.1', 8081, /platform endpoint/],
    ['127.0.0.1', 2375, /platform endpoint/],
    ['127.0.0.1', 2376, /platform endpoint/],
    ['127.0.0.1', 4223, /platform endpoint/],
  ];
  for (const [ip, port, why] of refused) assert.match(refusedAddress(policy, ip, port) ?? 'allowed', why, `${ip}:${port}`);
  for (const [ip, port] of [['127.0.0.1', 9000], ['::1', 9000], ['10.1.2.3', 6379], ['192.0.2.10', 443]] as const) {
    assert.equal(refusedAddress(policy, ip, port), undefined, `${ip}:${port}`);
  }
});

test('the URL check: the gateway /system in any spelling, addresses in the URL, and the operator allowlist', () => {
  for (const url of [
    'http://127.0.0.1:8080/system/functions',
    'http://localhost:8080/system/secrets',
    'http://127.0.0.1:8080/%73ystem/secrets',
    'http://127.0.0.1:8080/SYSTEM/info',
    'http://127.0.0.1:8080//system/scale-function/x',
    'http://127.0.0.1:8080/function/../system/functions',
  ]) {
    assert.equal(refusedCallbackUrl(policy, url), "the gateway's /system API is not a callback target", url);
  }
  assert.equal(refusedCallbackUrl(policy, 'http://127.0.0.1:8080/function/next-step'), undefined, 'a function through the gateway is fine');
  assert.match(refusedCallbackUrl(policy, 'http://169.254.169.254/latest/meta-data/')!, /link-local/);
  assert.match(refusedCallbackUrl(policy, 'http://[fe80::1]:8000/')!, /link-local/);
  assert.match(refusedCallbackUrl(policy, 'http://localhost:6379/')!, /platform endpoint/);
  assert.match(refusedCallbackUrl(policy, 'http://0.0.0.0:9000/')!, /unspecified/);
  assert.match(refusedCallbackUrl(policy, 'ftp://127.0.0.1/')!, /only http/);
  assert.equal(refusedCallbackUrl(policy, 'http://127.0.0.1:9000/done'), undefined, 'the README example still works');

  const narrowed = callbackPolicy(envOf(undefined, 'hooks.example.com,*.ci.example.org,127.0.0.1:9000'));
  assert.equal(refusedCallbackUrl(narrowed, 'https://hooks.example.com/x'), undefined);
  assert.equal(refusedCallbackUrl(narrowed, 'https://a.ci.example.org/x'), undefined);
  assert.equal(refusedCallbackUrl(narrowed, 'http://127.0.0.1:9000/done'), undefined);
  assert.match(refusedCallbackUrl(narrowed, 'http://127.0.0.1:9001/done')!, /127\.0\.0\.1:9001 is not in GITFAAS_CALLBACK_ALLOW/);
  assert.match(refusedCallbackUrl(narrowed, 'https://evil.example.net/')!, /not in GITFAAS_CALLBACK_ALLOW/);
  assert.throws(() => callbackPolicyEnv.GITFAAS_CALLBACK_DENY.parse('redis.internal:6379'), /an IP address or localhost/);
});

/** A connector that records whether it was ever asked to open a socket. */
function spyConnector() {
  const calls: string[] = [];
  const connect: buildConnector.connector = (options, callback) => {
    calls.push(options.hostname);
    callback(new Error('the spy never connects'), null);
  };
  return { calls, connect };
}

test('at connect time a name resolving to a metadata address is refused before any socket', async () => {
  for (const addresses of [['169.254.169.254'], ['127.0.0.1', '169.254.169.254'], ['fe80::1'], ['127.0.0.5']]) {
    const spy = spyConnector();
    const resolve: Resolve = async () => addresses;
    const connector = guardedConnector(policy, { resolve, connect: spy.connect });
    const port = addresses[0] === '127.0.0.5' ? '6379' : '80';
    const err = await new Promise<Error | null>((done) => connector({ hostname: 'rebind.test', protocol: 'http:', port }, (...args) => done(args[0])));
    assert.ok(err instanceof CallbackRefused, `${addresses}: ${err?.message}`);
    assert.match(err.message, /^callback refused: rebind\.test -> /);
    assert.deepEqual(spy.calls, [], 'no socket was opened');
  }
});

test("the worker's callback POST is refused (not retried) and never connects", async () => {
  const spy = spyConnector();
  let lookups = 0;
  const resolve: Resolve = async () => {
    lookups++;
    return ['169.254.169.254'];
  };
  const agent = new Agent({ connect: guardedConnector(policy, { resolve, connect: spy.connect }) });
  const cb: CallbackMessage = {
    call: { callId: 'c1', name: 'fn', namespace: 'ns', enqueuedAt: Date.now(), callbackUrl: 'http://metadata.test/latest/meta-data/' },
    result: { status: 200, headers: [], body: new Uint8Array(), durationMs: 1, attempts: 1 },
    priorTries: 0,
  };
  const outcome = await postCallback(agent, cb, 2000, policy);
  assert.deepEqual(outcome, { ok: false, retry: false, problem: 'callback refused: metadata.test -> 169.254.169.254 is a link-local (metadata) address' });
  assert.equal(lookups, 1);
  assert.deepEqual(spy.calls, []);
  await agent.close();
});

test('an allowed name connects to the address that was checked (no second lookup to rebind)', async () => {
  const server: Server = createServer((req, res) => res.end(`host=${req.headers.host}`));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  let lookups = 0;
  const resolve: Resolve = async () => (++lookups === 1 ? ['127.0.0.1'] : ['169.254.169.254']);
  const agent = new Agent({ connect: guardedConnector(policy, { resolve }) });
  try {
    const res = await agent.request({ origin: `http://callback.test:${port}`, path: '/', method: 'GET' });
    assert.equal(await res.body.text(), `host=callback.test:${port}`);
    assert.equal(lookups, 1);
  } finally {
    await agent.close();
    server.close();
  }
});

let gw: TestGateway;
before(async () => {
  gw = await startTestGateway();
});
after(() => gw?.stop());

test('the gateway answers 400 at enqueue time for targets the URL already tells', async () => {
  const port = new URL(gw.url).port;
  const cases: Array<[string, RegExp]> = [
    ['http://127.0.0.1:6379/', /platform endpoint/],
    ['http://127.0.0.1:4222/', /platform endpoint/],
    ['http://127.0.0.1:8222/connz', /platform endpoint/],
    ['http://127.0.0.1:5000/v2/_catalog', /platform endpoint/],
    ['http://127.0.0.1:2375/containers/json', /platform endpoint/],
    ['http://169.254.169.254/latest/meta-data/', /link-local \(metadata\)/],
    ['http://[::ffff:169.254.169.254]/', /link-local/],
    ['http://0.0.0.0:9000/', /unspecified/],
    [`http://127.0.0.1:${port}/system/secrets`, /the gateway's \/system API/],
    [`http://localhost:${port}/%73ystem/functions`, /the gateway's \/system API/],
  ];
  for (const [url, why] of cases) {
    const res = await fetch(`${gw.url}/async-function/nosuch.${gw.namespace}`, { method: 'POST', body: 'x', headers: { 'X-Callback-Url': url } });
    const text = await res.text();
    assert.equal(res.status, 400, `${url}: ${text}`);
    assert.match(text, /^X-Callback-Url ".*" is refused: /);
    assert.match(text, why, url);
  }
  // An allowed target passes the check (and the call then meets the missing function).
  const ok = await fetch(`${gw.url}/async-function/nosuch.${gw.namespace}`, { method: 'POST', body: 'x', headers: { 'X-Callback-Url': 'http://127.0.0.1:9000/done' } });
  assert.equal(ok.status, 404, await ok.text());
});
