import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Hono } from 'hono';
import { basicAuth } from './basic-auth.js';
import { safeEqual } from './safe-equal.js';

const app = new Hono();
app.use('*', basicAuth('admin', 'p:ss w'));
app.get('/', (c) => c.text('in'));
const basic = (s: string) => ({ authorization: `Basic ${Buffer.from(s).toString('base64')}` });

test('safeEqual compares whole values of any length', () => {
  assert.equal(safeEqual('a', 'a'), true);
  assert.equal(safeEqual('a', 'ab'), false);
  assert.equal(safeEqual('', ''), true);
});

test('basic auth: the right pair passes (a colon in the password is fine), anything else is 401 with a challenge', async () => {
  assert.equal((await app.request('/', { headers: basic('admin:p:ss w') })).status, 200);
  assert.equal((await app.request('/', { headers: { authorization: `bAsIc ${Buffer.from('admin:p:ss w').toString('base64')}` } })).status, 200);
  for (const headers of [{}, { authorization: 'Bearer ' }, { authorization: 'Bearer token' }, basic('admin:p'), basic('root:p:ss w'), basic('admin'), { authorization: 'Basic' }]) {
    const res = await app.request('/', { headers });
    assert.equal(res.status, 401, JSON.stringify(headers));
    assert.equal(res.headers.get('www-authenticate'), 'Basic realm="gitfaas", charset="UTF-8"');
  }
});
