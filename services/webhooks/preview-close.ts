// A closed or merged pull/merge request: its previews are removed by the deployer
// (services/deployer/preview-remove.ts). The receiver only stores the job, before 202,
// with an id per delivery so a redelivered close is stored once.
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { PREVIEWS_QUEUE, PreviewJob, type SourceRef } from '../../shared/jobs.js';

const KEEP_SECONDS = 7 * 24 * 3600;

export class PreviewCloser {
  private readonly queue: Queue;

  constructor(redis: Redis, prefix: string) {
    this.queue = new Queue(PREVIEWS_QUEUE, { connection: redis, prefix });
    this.queue.on('error', () => {});
  }

  async close(source: SourceRef & { pullRequest: number }, reason: 'closed' | 'merged', deliveryId: string): Promise<string> {
    const job = PreviewJob.parse({ kind: 'remove', source, reason, requestedAt: new Date().toISOString() });
    const jobId = `remove-${source.scm}-${source.repoId}-${source.pullRequest}-${deliveryId.replace(/[^A-Za-z0-9-]/g, '')}`;
    await this.queue.add('remove', job, { jobId, removeOnComplete: { age: KEEP_SECONDS }, removeOnFail: { age: KEEP_SECONDS } });
    return jobId;
  }

  async stop(): Promise<void> {
    await this.queue.close().catch(() => {});
  }
}
