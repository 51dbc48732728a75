// GET /system/function/NAME/ready against the real gateway (Docker provider, real Redis for
// owner tokens): ready at once, held until a scale-up makes it ready, 504 with the reason
// on timeout (no replica, or another image), 404 for an unknown function or one removed
// while waited on, 400 for a bad timeout, owners only in their own namespace; and the
// shared gateway client's waitReady on top of it, including a gateway that cannot be reached.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { GatewayClient, GatewayError } from '../../shared/gateway-client.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { fixtureImage } from '../helpers/images.js';
import { deleteKeys } from '../helpers/redis-keys.js';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('GET /system/function/NAME/ready', () => {
  let gw: TestGateway;
  let image: string;
  let ownerAuth = '';
  const prefix = `t-ready-${randomBytes(4).toString('hex')}`;
  const alice = `gh-alice-${randomBytes(3).toString('hex')}`;
  const bob = `gh-bob-${randomBytes(3).toString('hex')}`;

  async function call(method: string, route: string, auth = gw.authHeader, body?: unknown): Promise<{ status: number; text: string }> {
    const res = await fetch(`${gw.url}${route}`, { method, headers: { authorization: auth }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, text: await res.text() };
  }
  const ready = (name: string, query: string, auth?: string) => call('GET', `/system/function/${name}/ready?${query}`, auth);
  const deploy = async (service: string, namespace: string) => {
    const res = await call('POST', '/system/functions', gw.authHeader, { service, image, namespace });
    assert.equal(res.status, 202, res.text);
  };
  const scale = async (name: string, namespace: string, replicas: number) => {
    const res = await call('POST', `/system/scale-function/${name}`, gw.authHeader, { serviceName: name, namespace, replicas });
    assert.equal(res.status, 202, res.text);
  };

  before(async () => {
    image = await fixtureImage('echo');
    gw = await startTestGateway({ env: { GITFAAS_QUEUE_PREFIX: prefix } });
    await deploy('echo', gw.namespace);
  });
  after(async () => {
    await gw?.stop();
    const redis = new Redis('redis://127.0.0.1:6379');
    await deleteKeys(redis, [`${prefix}:*`]);
    redis.disconnect();
  });

  test('a ready function answers at once with its status; with its image too; another image is a 504 saying so', async () => {
    const res = await ready('echo', `namespace=${gw.namespace}&timeout=5s`);
    assert.equal(res.status, 200, res.text);
    const status = JSON.parse(res.text);
    assert.equal(status.name, 'echo');
    assert.equal(status.namespace, gw.namespace);
    assert.equal(status.image, image);
    assert.equal(status.availableReplicas, 1);
    assert.equal((await ready('echo', `namespace=${gw.namespace}&image=${encodeURIComponent(image)}`)).status, 200);
    const other = await ready('echo', `namespace=${gw.namespace}&timeout=300ms&image=${encodeURIComponent('127.0.0.1:5000/gitfaas-test/other:v9')}`);
    assert.equal(other.status, 504);
    assert.match(other.text, /was not ready within 300 ms: it still reports image .*gitfaas-test\/echo:src-[0-9a-f]{12}, not 127\.0\.0\.1:5000\/gitfaas-test\/other:v9/);
  });

  test('at zero replicas the request is held until a scale-up makes it ready; a short hold times out with 504', async () => {
    await scale('echo', gw.namespace, 0);
    let settled = false;
    const held = ready('echo', `namespace=${gw.namespace}&timeout=60s`).finally(() => (settled = true));
    const short = await ready('echo', `namespace=${gw.namespace}&timeout=300ms`);
    assert.equal(short.status, 504);
    assert.match(short.text, new RegExp(`function "echo" in namespace "${gw.namespace}" was not ready within 300 ms: it had no ready replica`));
    assert.equal(settled, false, 'the long hold is still waiting');
    await scale('echo', gw.namespace, 1);
    const res = await held;
    assert.equal(res.status, 200, res.text);
    assert.equal(JSON.parse(res.text).availableReplicas, 1);
  });

  test('unknown is 404, removed while held is 404, a bad timeout is 400', async () => {
    const unknown = await ready('ghost', `namespace=${gw.namespace}`);
    assert.equal(unknown.status, 404);
    assert.match(unknown.text, /function "ghost" not found in namespace/);
    await deploy('brief', gw.namespace);
    await scale('brief', gw.namespace, 0);
    const held = ready('brief', `namespace=${gw.namespace}&timeout=60s`);
    // The hold is registered before the removal: a short hold proves the gateway serves it.
    assert.equal((await ready('brief', `namespace=${gw.namespace}&timeout=100ms`)).status, 504);
    assert.equal((await call('DELETE', '/system/functions', gw.authHeader, { functionName: 'brief', namespace: gw.namespace })).status, 202);
    const removed = await held;
    assert.equal(removed.status, 404);
    assert.match(removed.text, /was removed from namespace/);
    for (const bad of ['abc', '0', '11m', '-5s']) {
      const res = await ready('echo', `namespace=${gw.namespace}&timeout=${bad}`);
      assert.equal(res.status, 400, `timeout=${bad}`);
      assert.match(res.text, /timeout must be a duration above 0 and at most 10 minutes/);
    }
  });

  test("an owner waits on their own functions only; another owner's is refused or invisible", async () => {
    const made = await call('POST', `/system/owner-tokens/${alice}`);
    assert.equal(made.status, 201, made.text);
    ownerAuth = basic(alice, (JSON.parse(made.text) as { token: string }).token);
    await deploy('mine', alice);
    await deploy('theirs', bob);
    const own = await ready('mine', 'timeout=10s', ownerAuth);
    assert.equal(own.status, 200, own.text);
    assert.equal(JSON.parse(own.text).namespace, alice);
    const refused = await ready('theirs', `namespace=${bob}&timeout=1s`, ownerAuth);
    assert.equal(refused.status, 403);
    assert.match(refused.text, new RegExp(`owner credentials of namespace "${alice}" cannot reach namespace "${bob}"`));
    assert.equal((await ready('theirs', 'timeout=1s', ownerAuth)).status, 404, 'without a namespace an owner asks in their own');
    assert.equal((await ready('theirs', `namespace=${bob}&timeout=1s`, basic(alice, 'wrong'))).status, 401);
  });

  test('the shared client: ready, not ready (the reason), unknown, and a gateway that cannot be reached', async () => {
    const client = new GatewayClient({ url: gw.url, user: 'admin', password: 'unused', passwordFile: '/nonexistent' });
    // The admin's header as the test gateway made it; the client builds its own from user and password.
    const [user, password] = Buffer.from(gw.authHeader.slice('Basic '.length), 'base64').toString().split(/:(.*)/s);
    const admin = new GatewayClient({ url: gw.url, user, password, passwordFile: '/nonexistent' });
    assert.equal((await client.waitReady('echo', gw.namespace, { timeoutMs: 1000 }).catch((err: GatewayError) => err.status)), 401, 'wrong credentials are not retried');
    const ok = await admin.waitReady('echo', gw.namespace, { timeoutMs: 5000, image });
    assert.equal(ok.state, 'ready');
    assert.equal(ok.state === 'ready' && ok.status.image, image);
    const wrong = await admin.waitReady('echo', gw.namespace, { timeoutMs: 300, image: '127.0.0.1:5000/gitfaas-test/other:v9' });
    assert.equal(wrong.state, 'not_ready');
    assert.match(wrong.state === 'not_ready' ? wrong.reason : '', /still reports image/);
    assert.equal((await admin.waitReady('ghost', gw.namespace, { timeoutMs: 1000 })).state, 'unknown');
    const closed = new GatewayClient({ url: 'http://127.0.0.1:9', user, password, passwordFile: '/nonexistent', retryDelaysMs: [50, 50] });
    await assert.rejects(closed.waitReady('echo', gw.namespace, { timeoutMs: 5000 }), (err: unknown) => err instanceof GatewayError && err.status === 0 && /unreachable/.test(err.message));
  });
});
