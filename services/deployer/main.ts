import { runService } from '../../shared/run-service.js';
import { loadDeployerConfig } from './config.js';
import { startDeployer } from './service.js';

await runService('deployer', () => loadDeployerConfig(), (config, log) => startDeployer(config, log));
