import { runService } from '../../shared/run-service.js';
import { loadGatewayWithDashboardConfig, startGatewayWithDashboard } from '../gateway-with-dashboard.js';
import { startGatewayProcesses } from './cluster/primary.js';

// The gateway process serves the dashboard too; the wiring of the two lives above both (services/gateway-with-dashboard.ts).
await runService('gateway', () => loadGatewayWithDashboardConfig(), (config, log) =>
  config.processes > 1 ? startGatewayProcesses({ count: config.processes, bind: config.bind, log }) : startGatewayWithDashboard(config, log),
);
