// The builder's metrics, read off the worker's events (no counter inside the build path):
//   gitfaas_builder_builds_total{result}          builds by outcome: deploying (built, deploy
//                                                 queued), built (pull request), superseded,
//                                                 failed (each failed attempt)
//   gitfaas_builder_stage_seconds{stage}          clone, build and push of each build that
//                                                 reached its deploy
//   gitfaas_builder_queue_*                       the builds queue (shared/queue-metrics.ts)
import type { Queue, Worker } from 'bullmq';
import { Counter, Histogram, type Registry } from 'prom-client';
import { registerQueueMetrics } from '../../shared/queue-metrics.js';
import type { BuildOutcome } from './build-commit.js';

export const BUILDER_METRICS_PREFIX = 'gitfaas_builder';

/** Seconds; builds run from seconds to the 10-minute default timeout. */
export const STAGE_BUCKETS = [0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600];

export function observeBuilds<Data>(registry: Registry, worker: Worker<Data, BuildOutcome>, builds: Queue): void {
  const results = new Counter({
    name: `${BUILDER_METRICS_PREFIX}_builds_total`,
    help: 'Build jobs by result (deploying, built, superseded, failed; a failed attempt counts each time)',
    labelNames: ['result'],
    registers: [registry],
  });
  const stages = new Histogram({
    name: `${BUILDER_METRICS_PREFIX}_stage_seconds`,
    help: 'Seconds each build stage took (clone, build, push)',
    labelNames: ['stage'],
    buckets: STAGE_BUCKETS,
    registers: [registry],
  });
  worker.on('completed', (_job, outcome) => {
    results.inc({ result: outcome.outcome });
    if (outcome.outcome === 'deploying') {
      for (const [stage, seconds] of Object.entries(outcome.stages)) stages.observe({ stage }, seconds);
    }
  });
  worker.on('failed', () => results.inc({ result: 'failed' }));
  registerQueueMetrics(registry, BUILDER_METRICS_PREFIX, [builds]);
}
