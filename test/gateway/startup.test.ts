// Start-up errors name the variable to fix.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { loadGatewayConfig } from '../../services/gateway/config.js';
import { startGateway } from '../../services/gateway/service.js';
import { silentLogger } from '../../shared/logger.js';
import { testInstance } from '../helpers/gateway.js';

let stateDir: string;
before(async () => {
  stateDir = await mkdtemp(path.join(os.tmpdir(), 'gitfaas-startup-'));
});
after(() => rm(stateDir, { recursive: true, force: true }));

const config = (env: Record<string, string>) =>
  loadGatewayConfig({ GITFAAS_GATEWAY_PORT: '0', GITFAAS_STATE_DIR: stateDir, GITFAAS_ADMIN_PASSWORD: 'pw', GITFAAS_INSTANCE: testInstance(), ...env });

test('an unreachable Docker socket is a start-up error naming GITFAAS_DOCKER_SOCKET', async () => {
  await assert.rejects(
    startGateway(config({ GITFAAS_DOCKER_SOCKET: path.join(stateDir, 'no-docker.sock') }), silentLogger()),
    /cannot reach Docker at .*no-docker\.sock.*GITFAAS_DOCKER_SOCKET/,
  );
});

test('a port in use is a start-up error naming GITFAAS_GATEWAY_PORT', async () => {
  const first = await startGateway(config({}), silentLogger());
  try {
    const port = new URL(first.url).port;
    await assert.rejects(startGateway(config({ GITFAAS_GATEWAY_PORT: port }), silentLogger()), /cannot listen on 127\.0\.0\.1:\d+ .*GITFAAS_GATEWAY_PORT/);
  } finally {
    await first.stop();
  }
});
