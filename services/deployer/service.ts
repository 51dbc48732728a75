// The deployer: a BullMQ worker on the deploys queue. Each job is re-validated, then
// deployed through the gateway (deploy-job.ts); statuses go to the job's git host.
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { BuildHistory } from '../../shared/build-history.js';
import { BuildLog } from '../../shared/build-logs.js';
import { DeployHistory } from '../../shared/deploy-history.js';
import { startHealthListener } from '../../shared/health-listener.js';
import { DEPLOYS_QUEUE, DeployJob } from '../../shared/jobs.js';
import type { Logger } from '../../shared/logger.js';
import type { RunningService } from '../../shared/run-service.js';
import { AGGREGATE_CONTEXT } from '../../shared/status.js';
import { hostClients } from '../../shared/status-router.js';
import type { DeployerConfig } from './config.js';
import { runDeploy, type DeployOutcome } from './deploy-job.js';
import { functionUrlFor } from './function-url.js';
import { GatewayClient } from '../../shared/gateway-client.js';
import { previewCommenter } from './preview-commenter.js';
import { PreviewStore } from './preview-store.js';
import { startPreviewWorker } from './preview-worker.js';
import { observeDeploys } from './metrics.js';
import { startRollbackWorker } from './rollback-worker.js';

export interface DeployerDeps {
  /** The process's metrics registry (services/main.ts shares one); made here when not given. */
  registry?: Registry;
}

export interface RunningDeployer extends RunningService {
  /** The /healthz and /metrics listener's URL, when GITFAAS_DEPLOYER_HEALTH_PORT is set. */
  healthUrl?: string;
}

export async function startDeployer(config: DeployerConfig, log: Logger, deps: DeployerDeps = {}): Promise<RunningDeployer> {
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  const hosts = hostClients(config, redis, log, config.queuePrefix);
  const { reporter } = hosts;
  const gateway = new GatewayClient({
    url: config.gatewayUrl,
    user: config.adminUser,
    password: config.adminPassword,
    passwordFile: config.adminPasswordFile,
  });

  const history = new BuildHistory(redis, config.queuePrefix, config.buildHistoryTtlMs);
  const openLog = (token: string) => new BuildLog(redis, config.queuePrefix, config.buildLogTtlMs, token);
  const deployHistory = new DeployHistory(redis, config.queuePrefix, config.deployHistoryCount);
  const previews = {
    settings: config.previews,
    store: new PreviewStore(redis, config.queuePrefix),
    commenter: previewCommenter(hosts, log.child({ component: 'preview-comment' })),
  };

  const worker = new Worker<unknown, DeployOutcome>(
    DEPLOYS_QUEUE,
    async (job) => {
      const parsed = DeployJob.safeParse(job.data);
      if (!parsed.success) {
        throw new UnrecoverableError(`deploy job ${job.id} does not match the DeployJob schema: ${parsed.error.message}`);
      }
      const deploy = parsed.data;
      try {
        return await runDeploy(deploy, {
          gateway,
          redis,
          reporter: () => reporter,
          functionUrl: functionUrlFor(config),
          quotas: config.quotas,
          readyTimeoutMs: config.readyTimeoutMs,
          keyPrefix: config.queuePrefix,
          log: log.child({ jobId: job.id }),
          history,
          openLog,
          deployHistory,
          previews,
        });
      } catch (err) {
        // Whatever stopped the deploy (Redis, the lock), the commit must not stay pending.
        await reporter
          .report(deploy.build.source, {
            context: AGGREGATE_CONTEXT,
            state: 'failure',
            description: `deploy failed: ${(err as Error).message}`,
            targetUrl: deploy.logUrl,
          })
          .catch((reportErr) => log.warn({ err: reportErr }, 'status not sent'));
        throw err;
      }
    },
    { connection: redis, prefix: config.queuePrefix, concurrency: config.concurrency },
  );
  const registry = deps.registry ?? new Registry();
  if (!deps.registry) collectDefaultMetrics({ register: registry });
  // Its own Queue on the deploys queue, read only by the metrics (depth, oldest waiting job).
  const deploys = new Queue(DEPLOYS_QUEUE, { connection: redis, prefix: config.queuePrefix });
  deploys.on('error', () => {});
  observeDeploys(registry, worker, deploys);
  worker.on('failed', (job, err) => log.error({ jobId: job?.id, err }, 'deploy job failed'));
  worker.on('completed', (job, result) => log.info({ jobId: job.id, ...result }, 'deploy job done'));
  worker.on('error', (err) => log.warn({ err: err.message }, 'deploy worker error'));
  await worker.waitUntilReady();
  const rollbacks = await startRollbackWorker(config, {
    gateway,
    redis,
    deployHistory,
    reporter,
    readyTimeoutMs: config.readyTimeoutMs,
    keyPrefix: config.queuePrefix,
    log: log.child({ component: 'rollback' }),
  });
  const previewWorker = await startPreviewWorker(
    { prefix: config.queuePrefix, concurrency: config.concurrency },
    { gateway, redis, keyPrefix: config.queuePrefix, previews, lockWaitMs: config.readyTimeoutMs * 2 + 60_000, log: log.child({ component: 'previews' }) },
  );
  log.info({ queue: DEPLOYS_QUEUE, prefix: config.queuePrefix, gateway: config.gatewayUrl }, 'deployer waiting for jobs');
  const health = await startHealthListener({ settings: config.health, portVariable: 'GITFAAS_DEPLOYER_HEALTH_PORT', registry, log, healthy: () => redis.status === 'ready' }).catch(async (err) => {
    await Promise.all([worker.close(), rollbacks.close()]);
    throw err;
  });

  let stopping: Promise<void> | undefined;
  return {
    healthUrl: health?.url,
    stop() {
      // close() lets the deploys in flight finish first.
      stopping ??= Promise.all([worker.close(), rollbacks.close(), health?.stop(), previewWorker.close()]).then(async () => {
        await deploys.close();
        redis.disconnect();
      });
      return stopping;
    },
  };
}
