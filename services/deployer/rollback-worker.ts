// The deployer's worker on the rollbacks queue (the admin rollback route on the webhooks
// service enqueues; docs/gitops.md, "Rollback"). One rollback at a time: each is short and
// takes the repository's deploy lock anyway.
import { UnrecoverableError, Worker } from 'bullmq';
import { ROLLBACKS_QUEUE, RollbackJob, type RollbackResult } from '../../shared/jobs.js';
import { runRollback, type RollbackDeps } from './rollback-job.js';

export async function startRollbackWorker(config: { queuePrefix: string }, deps: RollbackDeps): Promise<Worker<unknown, RollbackResult>> {
  const worker = new Worker<unknown, RollbackResult>(
    ROLLBACKS_QUEUE,
    async (job) => {
      const parsed = RollbackJob.safeParse(job.data);
      if (!parsed.success) throw new UnrecoverableError(`rollback job ${job.id} does not match the RollbackJob schema: ${parsed.error.message}`);
      return runRollback(parsed.data, { ...deps, log: deps.log.child({ jobId: job.id }) });
    },
    { connection: deps.redis, prefix: config.queuePrefix, concurrency: 1 },
  );
  worker.on('failed', (job, err) => deps.log.error({ jobId: job?.id, err }, 'rollback job failed'));
  worker.on('error', (err) => deps.log.warn({ err: err.message }, 'rollback worker error'));
  await worker.waitUntilReady();
  return worker;
}
