// Build logs in the real Redis and the GET /logs/:token route on a real server: lines are
// readable while the build runs (follow streams them as they come) and after it ends,
// with the TTL set, and an unknown or malformed token is a 404.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { serve, type ServerType } from '@hono/node-server';
import { Redis } from 'ioredis';
import { BuildLog, buildLogKey, buildLogUrl, isBuildLogToken, newBuildLogToken } from '../../shared/build-logs.js';
import { buildLogRoute } from './build-log-route.js';
import { waitFor } from '../../test/helpers/wait.js';

let redis: Redis;
const P = `t-log-${randomBytes(4).toString('hex')}`;
let server: ServerType;
let base: string;
const tokens: string[] = [];

before(async () => {
  redis = new Redis('redis://127.0.0.1:6379');
  await new Promise<void>((resolve) => {
    server = serve({ fetch: buildLogRoute(redis, P).fetch, hostname: '127.0.0.1', port: 0 }, () => resolve());
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  for (const t of tokens) await redis.del(buildLogKey(P, t));
  server.close();
  await redis.quit();
});

function newLog(ttlMs = 60_000): BuildLog {
  const log = new BuildLog(redis, P, ttlMs);
  tokens.push(log.token);
  return log;
}

test('tokens are 24 random bytes, base64url; URLs join the public base', () => {
  const a = newBuildLogToken();
  assert.equal(Buffer.from(a, 'base64url').length, 24);
  assert.ok(isBuildLogToken(a));
  assert.notEqual(a, newBuildLogToken());
  assert.equal(buildLogUrl('http://127.0.0.1:8081/', a), `http://127.0.0.1:8081/logs/${a}`);
});

test('lines are stored in order with the TTL and served as text/plain, during and after the build', async () => {
  const log = newLog(120_000);
  log.line('step one');
  log.line('multi\nline\r\nchunk\n');
  await log.flush();
  const ttl = await redis.pttl(log.key);
  assert.ok(ttl > 100_000 && ttl <= 120_000, `ttl ${ttl}`);
  let res = await fetch(`${base}/logs/${log.token}`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  assert.equal(await res.text(), 'step one\nmulti\nline\nchunk\n');
  await log.end('build failed');
  log.line('after the end is ignored');
  res = await fetch(`${base}/logs/${log.token}`);
  assert.equal(await res.text(), 'step one\nmulti\nline\nchunk\nbuild failed\n');
});

test('?follow=1 streams new lines as they are written and ends with the build', { timeout: 20_000 }, async () => {
  const log = newLog();
  log.line('first');
  await log.flush();
  const res = await fetch(`${base}/logs/${log.token}?follow=1`);
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  let text = '';
  const readUntil = async (needle: string) =>
    waitFor(`"${needle}" in the followed log`, async () => {
      while (!text.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) return text.includes(needle);
        text += Buffer.from(value).toString('utf8');
      }
      return true;
    }, 10_000);
  await readUntil('first\n');
  log.line('second, written while a reader follows');
  await readUntil('second, written while a reader follows\n');
  await log.end('build succeeded');
  await readUntil('build succeeded\n');
  const { done } = await reader.read();
  assert.equal(done, true, 'the stream ends when the build ends');
});

test('an unknown or malformed token is a 404 that says so', async () => {
  const unknown = await fetch(`${base}/logs/${newBuildLogToken()}`);
  assert.equal(unknown.status, 404);
  assert.match(await unknown.text(), /no build log with this token/);
  const malformed = await fetch(`${base}/logs/..%2F..%2Fetc`);
  assert.equal(malformed.status, 404);
  const short = await fetch(`${base}/logs/abc`);
  assert.equal(short.status, 404);
});
