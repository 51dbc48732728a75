// BullMQ queue depth and the age of the oldest waiting job, read from Redis at scrape time
// (never on a job's path). Each service registers the queues it consumes under its own
// prefix, so one registry holding every service (services/main.ts) has no name clash:
//   PREFIX_queue_jobs{queue,state}            jobs per state (waiting, active, delayed, ...)
//   PREFIX_queue_oldest_waiting_seconds{queue} how long the oldest waiting job has waited
// A queue whose Redis does not answer within READ_TIMEOUT_MS is left out of that scrape:
// the workers' connections wait for Redis forever (BullMQ needs that), and a scrape must
// neither hang nor fail the other metrics served beside these (the gateway's, all in one).
import type { Queue } from 'bullmq';
import { Gauge, type Registry } from 'prom-client';

export const QUEUE_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'failed', 'completed'] as const;

const READ_TIMEOUT_MS = 2_000;

/** The promise's value, or undefined when it fails or takes longer than READ_TIMEOUT_MS. */
async function within<T>(work: Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), READ_TIMEOUT_MS)));
  try {
    return await Promise.race([work.catch(() => undefined), late]);
  } finally {
    clearTimeout(timer);
  }
}

export function registerQueueMetrics(registry: Registry, prefix: string, queues: Queue[], now: () => number = Date.now): void {
  new Gauge({
    name: `${prefix}_queue_jobs`,
    help: 'BullMQ jobs in the queue, by state',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const queue of queues) {
        const counts = await within(queue.getJobCounts(...QUEUE_STATES));
        if (counts) for (const state of QUEUE_STATES) this.set({ queue: queue.name, state }, counts[state] ?? 0);
      }
    },
  });
  new Gauge({
    name: `${prefix}_queue_oldest_waiting_seconds`,
    help: 'Seconds the oldest job waiting in the queue has waited (0 when none waits)',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const queue of queues) {
        // Ascending order: the first of each state's list is the job added first there.
        const firsts = await within(queue.getJobs(['waiting', 'prioritized'], 0, 0, true));
        if (!firsts) continue;
        const since = Math.min(...firsts.filter(Boolean).map((job) => job.timestamp));
        this.set({ queue: queue.name }, Number.isFinite(since) ? Math.max(0, (now() - since) / 1000) : 0);
      }
    },
  });
}
