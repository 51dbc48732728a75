import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../../shared/config.js';
import { loadGatewayConfig } from '../config.js';

const base = { GITFAAS_ADMIN_PASSWORD: 'pw' };

test('on by default: 1 s tick, 60 s stable window, 6 s panic window, quota 5', () => {
  const { autoscale } = loadGatewayConfig(base);
  assert.deepEqual(autoscale, {
    enabled: true,
    tickMs: 1000,
    stableWindowMs: 60_000,
    panicWindowMs: 6_000,
    quotaReplicas: 5,
    redisUrl: 'redis://127.0.0.1:6379',
    queuePrefix: 'gitfaas',
  });
});

test('GITFAAS_AUTOSCALE=false disables it; the windows are read', () => {
  const { autoscale } = loadGatewayConfig({ ...base, GITFAAS_AUTOSCALE: 'false', GITFAAS_AUTOSCALE_TICK_MS: '200', GITFAAS_AUTOSCALE_STABLE_WINDOW_MS: '5000', GITFAAS_AUTOSCALE_PANIC_WINDOW_MS: '2000' });
  assert.equal(autoscale.enabled, false);
  assert.equal(autoscale.tickMs, 200);
  assert.equal(autoscale.stableWindowMs, 5000);
  assert.equal(autoscale.panicWindowMs, 2000);
});

test('bad values name the variable', () => {
  const fails = (env: Record<string, string>, pattern: RegExp) => assert.throws(() => loadGatewayConfig({ ...base, ...env }), (err: Error) => err instanceof ConfigError && pattern.test(err.message));
  fails({ GITFAAS_AUTOSCALE: 'maybe' }, /GITFAAS_AUTOSCALE: expected true or false/);
  fails({ GITFAAS_AUTOSCALE_TICK_MS: '0' }, /GITFAAS_AUTOSCALE_TICK_MS: expected a number above 0/);
  fails({ GITFAAS_AUTOSCALE_PANIC_WINDOW_MS: '500' }, /GITFAAS_AUTOSCALE_PANIC_WINDOW_MS: expected at least 1000/);
  fails({ GITFAAS_AUTOSCALE_STABLE_WINDOW_MS: '3000' }, /GITFAAS_AUTOSCALE_STABLE_WINDOW_MS: expected at least GITFAAS_AUTOSCALE_PANIC_WINDOW_MS \(6000\)/);
});
