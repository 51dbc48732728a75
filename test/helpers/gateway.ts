// Runs the real gateway in this process, as its entry point does (the dashboard mounted at
// /ui/), on 127.0.0.1 and an ephemeral port, with the real Docker provider, a random admin
// password and a fresh namespace for the test.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { loadGatewayWithDashboardConfig, startGatewayWithDashboard } from '../../services/gateway-with-dashboard.js';
import { silentLogger, type Logger } from '../../shared/logger.js';
import { deleteKeys } from './redis-keys.js';
import { waitFor } from './wait.js';

export interface TestGateway {
  url: string;
  authHeader: string;
  /** A fresh random namespace for this test. */
  namespace: string;
  /** GITFAAS_INSTANCE: a gateway restarted with the same instance finds these containers again. */
  instance: string;
  /** GITFAAS_STATE_DIR (secrets live under <stateDir>/secrets/<namespace>/<name>). */
  stateDir: string;
  /** Stops the gateway and removes every function it deployed, in every namespace it touched. */
  stop(): Promise<void>;
}

/**
 * A fresh gateway instance name: "test-<pid>-<random>". The pid lets scripts/test.sh remove
 * containers whose test process is gone; the random part keeps parallel gateways apart.
 */
export function testInstance(): string {
  return `test-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** log: the gateway's logger (default silent), for tests that read what it logged. */
export async function startTestGateway(opts: { env?: Record<string, string>; log?: Logger } = {}): Promise<TestGateway> {
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'gitfaas-gw-'));
  const password = randomBytes(18).toString('base64url');
  const config = loadGatewayWithDashboardConfig({
    GITFAAS_BIND: '127.0.0.1',
    GITFAAS_GATEWAY_PORT: '0',
    GITFAAS_STATE_DIR: stateDir,
    GITFAAS_ADMIN_PASSWORD: password,
    GITFAAS_LOG_LEVEL: 'silent',
    GITFAAS_INSTANCE: testInstance(),
    ...opts.env,
  });
  const namespace = `t-${randomBytes(5).toString('hex')}`;
  const gateway = await startGatewayWithDashboard(config, opts.log ?? silentLogger());
  const touched = new Set<string>([namespace]);
  const origDeploy = gateway.provider.deploy.bind(gateway.provider);
  gateway.provider.deploy = (deployment) => {
    touched.add(deployment.namespace);
    return origDeploy(deployment);
  };
  let stopped: Promise<void> | undefined;
  return {
    url: gateway.url,
    authHeader: `Basic ${Buffer.from(`${config.adminUser}:${password}`).toString('base64')}`,
    namespace,
    instance: config.instance,
    stateDir,
    stop: () =>
      (stopped ??= (async () => {
        try {
          for (const ns of touched) {
            for (const fn of await gateway.provider.list(ns)) {
              await gateway.provider.remove(fn.name, ns).catch(() => undefined);
            }
          }
        } finally {
          await gateway.stop();
          await rm(stateDir, { recursive: true, force: true });
          await removeZeroKeys(config.zero.redisUrl, `${config.zero.queuePrefix}:zero:${config.instance}:*`);
        }
      })()),
  };
}

/**
 * Deploys a function into the gateway's test namespace through the REST API (POST, as
 * faas-cli does for a new one) and waits until it answers 200 through the proxy.
 */
export async function deployAndWait(gw: TestGateway, deployment: { service: string; image: string } & Record<string, unknown>): Promise<void> {
  const res = await fetch(`${gw.url}/system/functions`, {
    method: 'POST',
    headers: { authorization: gw.authHeader, 'content-type': 'application/json' },
    body: JSON.stringify({ namespace: gw.namespace, ...deployment }),
  });
  if (res.status !== 202) throw new Error(`deploy of ${deployment.service} answered ${res.status}: ${await res.text()}`);
  const url = `${gw.url}/function/${deployment.service}.${gw.namespace}`;
  await waitFor(`the ${deployment.service} function`, async () => (await fetch(url)).status === 200, 60_000, 200);
}

/** The calls the gateway shared for scale to zero (kept by Redis for days otherwise). */
async function removeZeroKeys(url: string, pattern: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await deleteKeys(redis, [pattern]);
  } catch {
    // Redis already gone (a test that stops it): nothing was left that it still holds.
  } finally {
    redis.disconnect();
  }
}
