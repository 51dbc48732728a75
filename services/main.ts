// All services in one process, the single-machine default (scripts/up.sh); the gateway comes
// with the dashboard mounted (gateway-with-dashboard.ts, the gateway process's own wiring).
// With gateway-with-dashboard.ts, the only file that imports several services. Each config
// is loaded (and checked) before anything starts; services start in dependency order
// (gateway first: the deployer and queue-worker call it) and stop in reverse. They share
// one metrics registry, served at the gateway's /metrics; each service's names carry its
// own prefix (gateway_*, gitfaas_builder_*, gitfaas_deployer_*, gitfaas_queue_worker_*,
// gitfaas_webhooks_*).
import { isIPv6 } from 'node:net';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Env } from '../shared/config.js';
import type { Logger } from '../shared/logger.js';
import { runService, type RunningService } from '../shared/run-service.js';
import { loadBuilderConfig } from './builder/config.js';
import { startBuilder } from './builder/service.js';
import { loadDeployerConfig } from './deployer/config.js';
import { startDeployer } from './deployer/service.js';
import { startGatewayProcesses } from './gateway/cluster/primary.js';
import { loadGatewayWithDashboardConfig, startGatewayWithDashboard } from './gateway-with-dashboard.js';
import { loadQueueWorkerConfig } from './queue-worker/config.js';
import { startQueueWorker } from './queue-worker/service.js';
import { loadWebhooksConfig } from './webhooks/config.js';
import { startWebhooks } from './webhooks/service.js';

/** Where a co-located service listening on bind:port is reached from this process. */
function localUrl(bind: string, port: number): string {
  const host = bind === '0.0.0.0' ? '127.0.0.1' : bind === '::' ? '::1' : bind;
  return `http://${isIPv6(host) ? `[${host}]` : host}:${port}`;
}

function loadAll(env: Env = process.env) {
  const gateway = loadGatewayWithDashboardConfig(env);
  const webhooks = loadWebhooksConfig(env);
  // In one process the deployer, queue-worker and builder reach the gateway and the
  // receiver where these listen (not at the default ports, maybe another checkout's),
  // unless the variables say otherwise.
  const local: Env = {
    GITFAAS_GATEWAY_URL: localUrl(gateway.bind, gateway.port),
    GITFAAS_WEBHOOKS_PUBLIC_URL: webhooks.publicUrl ?? localUrl(webhooks.bind, webhooks.port),
  };
  const withLocal = { ...local, ...env };
  return {
    logLevel: gateway.logLevel,
    logFormat: gateway.logFormat,
    gateway,
    queueWorker: loadQueueWorkerConfig(withLocal),
    deployer: loadDeployerConfig(withLocal),
    builder: loadBuilderConfig(withLocal),
    webhooks,
  };
}

type AllConfig = ReturnType<typeof loadAll>;

async function startAll(config: AllConfig, log: Logger): Promise<RunningService> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const steps: [string, () => Promise<RunningService>][] = [
    [
      'gateway',
      () =>
        config.gateway.processes > 1
          ? startGatewayProcesses({ count: config.gateway.processes, bind: config.gateway.bind, log: log.child({ service: 'gateway' }), answers: { metrics: () => registry.getMetricsAsJSON() } })
          : startGatewayWithDashboard(config.gateway, log.child({ service: 'gateway' }), { registry }),
    ],
    ['queue-worker', () => startQueueWorker(config.queueWorker, log.child({ service: 'queue-worker' }), { registry })],
    ['deployer', () => startDeployer(config.deployer, log.child({ service: 'deployer' }), { registry })],
    ['builder', () => startBuilder(config.builder, log.child({ service: 'builder' }), { registry })],
    ['webhooks', () => startWebhooks(config.webhooks, log.child({ service: 'webhooks' }), { registry })],
  ];
  const running: [string, RunningService][] = [];
  const stopAll = async () => {
    for (const [name, service] of running.reverse()) {
      await service.stop().catch((err) => log.error({ err, service: name }, 'error while stopping'));
    }
  };
  for (const [name, start] of steps) {
    try {
      running.push([name, await start()]);
    } catch (err) {
      await stopAll();
      throw new Error(`${name} failed to start`, { cause: err });
    }
  }
  log.info({ services: running.map(([name]) => name) }, 'all services running');
  let stopping: Promise<void> | undefined;
  return { stop: () => (stopping ??= stopAll()) };
}

await runService('gitfaas', () => loadAll(), startAll);
