import { runService } from '../../shared/run-service.js';
import { loadQueueWorkerConfig } from './config.js';
import { startQueueWorker } from './service.js';

await runService('queue-worker', () => loadQueueWorkerConfig(), startQueueWorker);
