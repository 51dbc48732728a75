import { runService } from '../../shared/run-service.js';
import { loadGatewayConfig } from './config.js';
import { startGateway } from './service.js';

await runService('gateway', () => loadGatewayConfig(), startGateway);
