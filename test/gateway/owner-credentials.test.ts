// Owner-scoped credentials against the real gateway (Docker provider, real Redis): the admin
// makes a token for an owner namespace; with it, the HTTP calls faas-cli makes (login's
// GET /system/functions, `secret create/update/list/remove --namespace`) work in that
// namespace only; names-only listing; the admin manages any namespace; a revoked or rotated
// token is refused; neither token nor secret value is in any answer or log line.
// faas-cli itself is a Go binary not installable here, so the test sends its requests.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { deleteKeys } from '../helpers/redis-keys.js';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('owner credentials', () => {
  let gw: TestGateway;
  const prefix = `t-owner-${randomBytes(4).toString('hex')}`;
  const logLines: string[] = [];
  const answers: string[] = [];
  const alice = `gh-alice-${randomBytes(3).toString('hex')}`;
  const bob = `gh-bob-${randomBytes(3).toString('hex')}`;
  const value = `v-${randomBytes(12).toString('hex')}`;
  let token = '';
  const oldTokens: string[] = [];

  /** A /system call; every answer is kept to check later that no secret leaked into one. */
  async function call(method: string, route: string, auth: string, body?: unknown): Promise<{ status: number; text: string }> {
    const res = await fetch(`${gw.url}${route}`, {
      method,
      headers: { authorization: auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    answers.push(text);
    return { status: res.status, text };
  }
  const admin = (method: string, route: string, body?: unknown) => call(method, route, gw.authHeader, body);
  const owner = (method: string, route: string, body?: unknown) => call(method, route, basic(alice, token), body);
  /** The token a POST /system/owner-tokens answered: the one answer allowed to hold it. */
  const madeToken = (text: string) => {
    answers.splice(answers.indexOf(text), 1);
    return (JSON.parse(text) as { token: string }).token;
  };

  before(async () => {
    const log = pino({ level: 'trace' }, { write: (line: string) => void logLines.push(line) });
    gw = await startTestGateway({ env: { GITFAAS_QUEUE_PREFIX: prefix }, log });
  });
  after(async () => {
    await gw?.stop();
    const redis = new Redis('redis://127.0.0.1:6379');
    await deleteKeys(redis, [`${prefix}:*`]);
    redis.disconnect();
  });

  test('the admin makes a token; it is answered once and never read back', async () => {
    assert.equal((await owner('GET', '/system/functions')).status, 401, 'no token yet');
    const made = await admin('POST', `/system/owner-tokens/${alice}`);
    assert.equal(made.status, 201, made.text);
    const body = JSON.parse(made.text) as { token: string; namespace: string; createdBy: string };
    assert.match(body.token, /^gft_[A-Za-z0-9_-]{43}$/);
    assert.equal(body.namespace, alice);
    assert.equal(body.createdBy, 'admin');
    token = madeToken(made.text);
    const info = await admin('GET', `/system/owner-tokens/${alice}`);
    assert.equal(info.status, 200);
    assert.ok(!info.text.includes(token), 'GET does not answer the token');
    assert.equal((await admin('GET', `/system/owner-tokens/${bob}`)).status, 404);
  });

  test('faas-cli login (GET /system/functions) passes with the token; a wrong one or another namespace as user is 401', async () => {
    const login = await owner('GET', '/system/functions');
    assert.equal(login.status, 200, login.text);
    assert.deepEqual(JSON.parse(login.text), []);
    assert.equal((await call('GET', '/system/functions', basic(alice, `${token}x`))).status, 401);
    assert.equal((await call('GET', '/system/functions', basic(bob, token))).status, 401);
    assert.equal((await call('GET', '/system/functions', basic('admin', token))).status, 401);
    const namespaces = await owner('GET', '/system/namespaces');
    assert.deepEqual(JSON.parse(namespaces.text), [alice]);
  });

  test('an owner creates, updates, lists (names only) and removes secrets of their namespace', async () => {
    let res = await owner('POST', '/system/secrets', { name: 'api-key', namespace: alice, value });
    assert.equal(res.status, 202, res.text);
    const file = path.join(gw.stateDir, 'secrets', alice, 'api-key');
    assert.equal(await readFile(file, 'utf8'), value);
    // faas-cli --from-file: rawValue is Go's []byte, base64 in JSON; bytes that are not UTF-8 survive.
    const bytes = Buffer.from([0, 255, 254, 10, 65]);
    res = await owner('PUT', '/system/secrets', { name: 'api-key', namespace: alice, rawValue: bytes.toString('base64') });
    assert.equal(res.status, 202, res.text);
    assert.deepEqual(await readFile(file), bytes);
    res = await owner('PUT', '/system/secrets', { name: 'api-key', namespace: alice, rawValue: 'not base64!' });
    assert.equal(res.status, 400);
    assert.match(res.text, /rawValue must be base64/);
    // No namespace given: the owner's own.
    res = await owner('POST', '/system/secrets', { name: 'db-url', value });
    assert.equal(res.status, 202, res.text);
    assert.equal((await owner('POST', '/system/secrets', { name: 'db-url', value })).status, 409);
    const list = await owner('GET', `/system/secrets?namespace=${alice}`);
    assert.equal(list.status, 200);
    assert.deepEqual(JSON.parse(list.text), [
      { name: 'api-key', namespace: alice },
      { name: 'db-url', namespace: alice },
    ]);
    assert.equal((await owner('DELETE', '/system/secrets', { name: 'db-url', namespace: alice })).status, 202);
    assert.equal((await owner('DELETE', '/system/secrets', { name: 'db-url', namespace: alice })).status, 404);
    assert.deepEqual(JSON.parse((await owner('GET', '/system/secrets')).text), [{ name: 'api-key', namespace: alice }]);
  });

  test("another namespace is refused with 403 naming both; the admin manages any namespace", async () => {
    let res = await admin('POST', '/system/secrets', { name: 'bobs', namespace: bob, value });
    assert.equal(res.status, 202, res.text);
    const refused = `forbidden: owner credentials of namespace "${alice}" cannot reach namespace "${bob}"\n`;
    for (const [method, route, body] of [
      ['GET', `/system/secrets?namespace=${bob}`, undefined],
      ['POST', '/system/secrets', { name: 'x', namespace: bob, value: 'y' }],
      ['PUT', '/system/secrets', { name: 'bobs', namespace: bob, value: 'y' }],
      ['DELETE', '/system/secrets', { name: 'bobs', namespace: bob }],
      ['GET', `/system/functions?namespace=${bob}`, undefined],
      ['GET', `/system/owner-tokens/${bob}`, undefined],
      ['POST', `/system/owner-tokens/${bob}`, undefined],
    ] as const) {
      res = await owner(method, route, body);
      assert.equal(res.status, 403, `${method} ${route}: ${res.text}`);
      assert.equal(res.text, refused);
    }
    assert.deepEqual(JSON.parse((await admin('GET', `/system/secrets?namespace=${bob}`)).text), [{ name: 'bobs', namespace: bob }]);
    assert.equal(await readFile(path.join(gw.stateDir, 'secrets', bob, 'bobs'), 'utf8'), value, 'the refused PUT changed nothing');
    assert.deepEqual(JSON.parse((await admin('GET', `/system/secrets?namespace=${alice}`)).text), [{ name: 'api-key', namespace: alice }]);
  });

  test('owners cannot deploy, scale or remove functions, nor use admin-only routes', async () => {
    for (const [method, route, body] of [
      ['POST', '/system/functions', { service: 'f', image: 'x/y:1', namespace: alice }],
      ['PUT', '/system/functions', { service: 'f', image: 'x/y:1' }],
      ['DELETE', '/system/functions', { functionName: 'f' }],
      ['POST', '/system/scale-function/f', { replicas: 1 }],
      ['GET', '/system/async/queue', undefined],
    ] as const) {
      const res = await owner(method, route, body);
      assert.equal(res.status, 403, `${method} ${route}: ${res.text}`);
      assert.match(res.text, new RegExp(`^forbidden: owner credentials of namespace "${alice}" cannot use ${method} /system/`));
    }
    assert.equal((await call('GET', '/metrics', basic(alice, token))).status, 401);
    assert.equal((await owner('GET', '/system/function/nope')).status, 404);
  });

  test('a rotated token replaces the old one; a revoked token is refused', async () => {
    const rotated = await owner('POST', `/system/owner-tokens/${alice}`);
    assert.equal(rotated.status, 201, rotated.text);
    const old = token;
    oldTokens.push(old);
    token = madeToken(rotated.text);
    assert.notEqual(token, old);
    assert.equal((await call('GET', '/system/functions', basic(alice, old))).status, 401, 'the old token is gone');
    assert.equal((await owner('GET', '/system/functions')).status, 200);
    assert.equal((await admin('DELETE', `/system/owner-tokens/${alice}`)).status, 202);
    const gone = await owner('GET', '/system/secrets');
    assert.equal(gone.status, 401);
    assert.equal(gone.text, 'unauthorized: wrong user or password\n');
    assert.equal((await admin('DELETE', `/system/owner-tokens/${alice}`)).status, 404);
  });

  test('Redis holds only a hash; no token or secret value is in an answer or a log line', async () => {
    const redis = new Redis('redis://127.0.0.1:6379');
    const made = await admin('POST', `/system/owner-tokens/${bob}`);
    const bobToken = madeToken(made.text);
    const stored = (await redis.get(`${prefix}:owner-token:${bob}`)) ?? '';
    redis.disconnect();
    assert.match(stored, /"sha256":"[0-9a-f]{64}"/);
    assert.ok(!stored.includes(bobToken), 'not stored in clear');
    const tokens = [...oldTokens, token, bobToken];
    for (const text of answers) {
      for (const secret of [value, ...tokens]) if (secret) assert.ok(!text.includes(secret), `leaked in an answer: ${text.slice(0, 120)}`);
    }
    const logs = logLines.join('');
    for (const secret of [value, ...tokens]) if (secret) assert.ok(!logs.includes(secret), 'leaked in a log line');
  });
});
