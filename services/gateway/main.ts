import { runService } from '../../shared/run-service.js';
import { startGatewayProcesses } from './cluster/primary.js';
import { loadGatewayConfig } from './config.js';
import { startGateway } from './service.js';

await runService('gateway', () => loadGatewayConfig(), (config, log) =>
  config.processes > 1 ? startGatewayProcesses({ count: config.processes, bind: config.bind, log }) : startGateway(config, log),
);
