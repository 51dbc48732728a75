import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../shared/config.js';
import { loadQueueWorkerConfig } from './config.js';

const base = { GITFAAS_ADMIN_PASSWORD: 'pw' };

test('defaults', () => {
  const c = loadQueueWorkerConfig(base);
  assert.equal(c.maxInflight, 50);
  assert.equal(c.gatewayUrl, 'http://127.0.0.1:8080');
  assert.deepEqual(c.retry, { attempts: 5, codes: [408, 429, 500, 502, 503, 504], minWaitMs: 500, maxWaitMs: 30_000 });
  assert.equal(c.streams.stream, 'GITFAAS_ASYNC');
  assert.deepEqual(c.streams.natsServers, ['nats://127.0.0.1:4222']);
  assert.equal(c.streams.maxAgeMs, 0);
});

test('every bad value is reported with its variable', () => {
  assert.throws(
    () =>
      loadQueueWorkerConfig({
        ...base,
        GITFAAS_QUEUE_WORKER_MAX_INFLIGHT: '0',
        GITFAAS_QUEUE_WORKER_RETRY_CODES: '500,abc',
        GITFAAS_ASYNC_STREAM: 'has.dot',
        GITFAAS_ASYNC_DEAD_SUBJECT: 'gitfaas.async.dead',
        GITFAAS_GATEWAY_URL: 'ftp://x',
      }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      for (const v of ['GITFAAS_QUEUE_WORKER_MAX_INFLIGHT', 'GITFAAS_QUEUE_WORKER_RETRY_CODES', 'GITFAAS_ASYNC_STREAM', 'GITFAAS_GATEWAY_URL']) {
        assert.match(err.message, new RegExp(v));
      }
      return true;
    },
  );
  assert.throws(() => loadQueueWorkerConfig({ ...base, GITFAAS_ASYNC_DEAD_SUBJECT: 'gitfaas.async.dead' }), /GITFAAS_ASYNC_DEAD_SUBJECT: must not overlap/);
  assert.throws(() => loadQueueWorkerConfig({ ...base, GITFAAS_QUEUE_WORKER_RETRY_MIN_WAIT_MS: '5000', GITFAAS_QUEUE_WORKER_RETRY_MAX_WAIT_MS: '100' }), /must not exceed/);
});

test('no admin password: start-up error naming the variables', () => {
  assert.throws(() => loadQueueWorkerConfig({ GITFAAS_STATE_DIR: '/nonexistent-gitfaas' }), /GITFAAS_ADMIN_PASSWORD or GITFAAS_ADMIN_PASSWORD_FILE/);
});
