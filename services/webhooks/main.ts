import { runService } from '../../shared/run-service.js';
import { loadWebhooksConfig } from './config.js';
import { startWebhooks } from './service.js';

await runService('webhooks', () => loadWebhooksConfig(), (config, log) => startWebhooks(config, log));
