// The previews queue's worker: removals of closed pull requests' previews, and the sweep
// (a BullMQ job scheduler, so several deployers run it once per interval between them)
// that removes previews without a push for GITFAAS_PREVIEW_TTL.
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { PREVIEWS_QUEUE, PreviewJob } from '../../shared/jobs.js';
import type { Logger } from '../../shared/logger.js';
import type { PreviewDeps } from './preview-deploy.js';
import { removePreviews, type RemoveDeps } from './preview-remove.js';

export interface PreviewWorker {
  /** Runs one sweep now (the scheduled one runs every GITFAAS_PREVIEW_SWEEP_INTERVAL). */
  sweep(): Promise<string[]>;
  close(): Promise<void>;
}

export async function startPreviewWorker(
  queueSettings: { prefix: string; concurrency: number },
  deps: Omit<RemoveDeps, 'previews'> & { previews: PreviewDeps },
): Promise<PreviewWorker> {
  const { log } = deps;
  const sweep = async (): Promise<string[]> => {
    const before = Date.now() - deps.previews.settings.ttlMs;
    const removed: string[] = [];
    for (const key of await deps.previews.store.idleSince(before)) {
      const record = await deps.previews.store.get(key);
      if (!record) continue;
      removed.push(...(await removePreviews(record.source, 'expired', deps)));
    }
    return removed;
  };
  const worker = new Worker<unknown, { removed: string[] }>(
    PREVIEWS_QUEUE,
    async (job) => {
      const parsed = PreviewJob.safeParse(job.data);
      if (!parsed.success) throw new UnrecoverableError(`preview job ${job.id} does not match the PreviewJob schema: ${parsed.error.message}`);
      const data = parsed.data;
      if (data.kind === 'sweep') return { removed: await sweep() };
      return { removed: await removePreviews(data.source, data.reason, deps) };
    },
    { connection: deps.redis, prefix: queueSettings.prefix, concurrency: queueSettings.concurrency },
  );
  worker.on('failed', (job, err) => log.error({ jobId: job?.id, err }, 'preview job failed'));
  worker.on('error', (err) => log.warn({ err: err.message }, 'preview worker error'));
  await worker.waitUntilReady();
  const queue = new Queue(PREVIEWS_QUEUE, { connection: deps.redis, prefix: queueSettings.prefix });
  queue.on('error', (err) => log.warn({ err: err.message }, 'preview queue error'));
  if (deps.previews.settings.enabled) {
    await queue.upsertJobScheduler('preview-sweep', { every: deps.previews.settings.sweepIntervalMs }, { name: 'sweep', data: { kind: 'sweep' }, opts: { removeOnComplete: 100, removeOnFail: 100 } });
  }
  return {
    sweep,
    async close() {
      await worker.close();
      await queue.close().catch(() => {});
    },
  };
}
