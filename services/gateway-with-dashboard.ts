// The gateway process: the gateway (services/gateway/) with the dashboard (services/dashboard/)
// mounted at /ui/. Wiring, like services/main.ts: the only files that import both services.
// Neither imports the other: the dashboard declares what it needs as its own ports
// (dashboard/host.ts), the gateway offers its objects to what the wiring mounts
// (gateway/mounts.ts), and here the one is handed to the other; the gateway's provider and
// invocation counts fit the dashboard's ports as they are. Each config is parsed by its own
// service's loader. Used by the gateway's entry points (gateway/main.ts, cluster/worker.ts)
// and by services/main.ts.
import type { Env } from '../shared/config.js';
import type { Logger } from '../shared/logger.js';
import { loadDashboardConfig, type DashboardSettings } from './dashboard/config.js';
import { createDashboard } from './dashboard/dashboard.js';
import { loadGatewayConfig, type GatewayConfig } from './gateway/config.js';
import type { GatewayMount } from './gateway/mounts.js';
import { startGateway, type GatewayDeps, type RunningGateway } from './gateway/service.js';

export type GatewayWithDashboardConfig = GatewayConfig & { dashboard: DashboardSettings };

export function loadGatewayWithDashboardConfig(env: Env = process.env): GatewayWithDashboardConfig {
  return { ...loadGatewayConfig(env), dashboard: loadDashboardConfig(env) };
}

function dashboardMount(config: GatewayWithDashboardConfig, log: Logger): GatewayMount {
  return (host) =>
    createDashboard({
      settings: config.dashboard,
      functions: host.provider,
      secrets: host.provider,
      invocations: host.invocations,
      ownerTokens: host.ownerTokens,
      asyncLink: host.asyncLink,
      asyncStreams: config.async.streams,
      adminUser: config.adminUser,
      adminPassword: config.adminPassword,
      defaultNamespace: config.defaultNamespace,
      maxReplicas: config.maxReplicas,
      domain: config.domain,
      log: log.child({ component: 'dashboard' }),
    });
}

export function startGatewayWithDashboard(config: GatewayWithDashboardConfig, log: Logger, deps: GatewayDeps = {}): Promise<RunningGateway> {
  return startGateway(config, log, { ...deps, mounts: [...(deps.mounts ?? []), dashboardMount(config, log)] });
}
