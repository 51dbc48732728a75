import { runService } from '../../shared/run-service.js';
import { loadBuilderConfig } from './config.js';
import { startBuilder } from './service.js';

await runService('builder', () => loadBuilderConfig(), startBuilder);
