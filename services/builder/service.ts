// The builder service: a BullMQ worker on the "builds" queue. Each job is re-validated,
// built (build-commit.ts) and, for a push, handed to the deployer on the "deploys" queue.
import path from 'node:path';
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { dockerEngine } from '../../shared/docker-engine.js';
import { Redis } from 'ioredis';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { BuildHistory } from '../../shared/build-history.js';
import { startHealthListener } from '../../shared/health-listener.js';
import { BUILDS_QUEUE, BuildJob, buildJobId, DEPLOYS_QUEUE, DeployJob } from '../../shared/jobs.js';
import type { Logger } from '../../shared/logger.js';
import type { RunningService } from '../../shared/run-service.js';
import type { StatusReporter } from '../../shared/status.js';
import { hostClients } from '../../shared/status-router.js';
import { buildCommit, type BuildOutcome } from './build-commit.js';
import { BuildctlImageBuilder } from './buildctl.js';
import type { BuilderConfig } from './config.js';
import { EngineImageBuilder, type ImageBuilder } from './engine-build.js';
import { observeBuilds } from './metrics.js';
import { removeStaleWorkDirs } from './work-dirs.js';

export interface BuilderDeps {
  /** Statuses go here; by default the job's host (GITHUB_* or GITLAB_* configuration). */
  reporter?: StatusReporter;
  /** Credentials for private clones; by default the job's host's token. */
  cloneCredentials?: (source: BuildJob['source']) => Promise<{ username: string; password: string } | undefined>;
  builder?: ImageBuilder;
  /** The process's metrics registry (services/main.ts shares one); made here when not given. */
  registry?: Registry;
}

export interface RunningBuilder extends RunningService {
  /** The worker, for tests that wait on its events. */
  worker: Worker<BuildJob, BuildOutcome>;
  /** The /healthz and /metrics listener's URL, when GITFAAS_BUILDER_HEALTH_PORT is set. */
  healthUrl?: string;
}

export async function startBuilder(config: BuilderConfig, log: Logger, deps: BuilderDeps = {}): Promise<RunningBuilder> {
  // Clones left by a builder that was killed mid-build (work-dirs.ts tells whose they are).
  const stale = await removeStaleWorkDirs(path.join(config.stateDir, 'builds')).catch((err) => {
    log.warn({ err }, 'could not remove stale work directories');
    return [];
  });
  if (stale.length > 0) log.info({ removed: stale }, `removed ${stale.length} work directories of builders that are gone`);
  // BullMQ's workers need maxRetriesPerRequest: null (blocking commands).
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
  redis.on('error', (err) => log.warn({ err }, 'redis error'));
  const deploys = new Queue<DeployJob>(DEPLOYS_QUEUE, { connection: redis, prefix: config.queuePrefix });
  deploys.on('error', (err) => log.warn({ err }, 'deploys queue error'));

  const hosts = hostClients(config, redis, log, config.queuePrefix);
  const reporter = deps.reporter ?? hosts.reporter;
  const cloneCredentials = deps.cloneCredentials ?? ((source: BuildJob['source']) => hosts.cloneCredentials(source));
  const builder =
    deps.builder ??
    (config.buildkitAddr
      ? new BuildctlImageBuilder(config.buildkitAddr, config.buildctl)
      : new EngineImageBuilder(dockerEngine(config.dockerSocket)));
  const history = new BuildHistory(redis, config.queuePrefix, config.buildHistoryTtlMs);
  const stopping = new AbortController();
  const workerRedis = redis.duplicate();
  // duplicate() copies options, not listeners: an unhandled 'error' would end the process.
  workerRedis.on('error', (err) => log.warn({ err }, 'redis (worker connection) error'));

  const worker = new Worker<BuildJob, BuildOutcome>(
    BUILDS_QUEUE,
    async (job: Job) => {
      const parsed = BuildJob.safeParse(job.data);
      if (!parsed.success) {
        throw new UnrecoverableError(`invalid build job ${job.id}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      }
      const data = parsed.data;
      const outcome = await buildCommit(data, {
        redis,
        keyPrefix: config.queuePrefix,
        history,
        reporter,
        builder,
        cloneCredentials,
        verifyRepository: (source) => hosts.verifyRepository(source),
        log: log.child({ jobId: job.id, deliveryId: data.deliveryId }),
        stopSignal: stopping.signal,
        enqueueDeploy: async (deployJob) => {
          await deploys.add('deploy', DeployJob.parse(deployJob), {
            // The build job's own id: a rebuild of a commit built before gets a deploy of its own.
            jobId: `deploy-${job.id ?? buildJobId(data.source, data.kind)}`,
            removeOnComplete: { age: 7 * 24 * 3600 },
            removeOnFail: { age: 7 * 24 * 3600 },
          });
        },
        settings: {
          stateDir: config.stateDir,
          gitOrigins: config.gitOrigins,
          registry: config.registry,
          parallelism: config.parallelism,
          buildTimeoutMs: config.buildTimeoutMs,
          baseImages: config.baseImages,
          allowedImages: config.allowedImages,
          limits: config.limits,
          buildLogTtlMs: config.buildLogTtlMs,
          publicUrl: config.publicUrl,
          quotas: config.quotas,
          npm: config.npm,
          pipIndexUrl: config.pipIndexUrl,
        },
      });
      if (outcome.outcome === 'failed') {
        // The statuses already say why; the job fails too, so the queue shows it.
        throw outcome.permanent ? new UnrecoverableError(outcome.reason) : new Error(outcome.reason);
      }
      return outcome;
    },
    { connection: workerRedis, prefix: config.queuePrefix, concurrency: config.concurrency },
  );
  const registry = deps.registry ?? new Registry();
  if (!deps.registry) collectDefaultMetrics({ register: registry });
  // Its own Queue on the builds queue, read only by the metrics (depth, oldest waiting job).
  const builds = new Queue(BUILDS_QUEUE, { connection: redis, prefix: config.queuePrefix });
  builds.on('error', () => {});
  observeBuilds(registry, worker, builds);
  worker.on('error', (err) => log.error({ err }, 'worker error'));
  worker.on('failed', (job, err) => log.info({ jobId: job?.id, reason: err.message }, 'build job failed'));
  log.info({ queue: BUILDS_QUEUE, prefix: config.queuePrefix, concurrency: config.concurrency, buildkit: config.buildkitAddr ?? 'docker engine' }, 'builder ready');
  const health = await startHealthListener({ settings: config.health, portVariable: 'GITFAAS_BUILDER_HEALTH_PORT', registry, log, healthy: () => redis.status === 'ready' }).catch(async (err) => {
    await worker.close();
    throw err;
  });

  let stopped: Promise<void> | undefined;
  return {
    worker,
    healthUrl: health?.url,
    stop() {
      stopped ??= (async () => {
        // Let running builds finish (worker.close waits for them); abort only what is left
        // when the process is being killed anyway.
        await worker.close();
        stopping.abort();
        await health?.stop();
        await deploys.close();
        await builds.close();
        await workerRedis.quit().catch(() => workerRedis.disconnect());
        await redis.quit().catch(() => redis.disconnect());
      })();
      return stopped;
    },
  };
}
