// The deployer's metrics, read off the worker's events (no counter inside the deploy path):
//   gitfaas_deployer_deploys_total{result}       deploys by outcome: deployed, failed,
//                                                superseded, not-deployed, error (the job threw)
//   gitfaas_deployer_stage_seconds{stage="deploy"} from the deploy job's start to its functions live
//   gitfaas_deployer_push_to_live_seconds        from the webhook's arrival to the functions live
//   gitfaas_deployer_queue_*                     the deploys queue (shared/queue-metrics.ts)
import type { Job, Queue, Worker } from 'bullmq';
import { Counter, Histogram, type Registry } from 'prom-client';
import { registerQueueMetrics } from '../../shared/queue-metrics.js';
import type { DeployOutcome } from './deploy-job.js';

export const DEPLOYER_METRICS_PREFIX = 'gitfaas_deployer';

const BUCKETS = [0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600];

export function observeDeploys(registry: Registry, worker: Worker<unknown, DeployOutcome>, deploys: Queue, now: () => number = Date.now): void {
  const results = new Counter({
    name: `${DEPLOYER_METRICS_PREFIX}_deploys_total`,
    help: 'Deploy jobs by result (deployed, failed, superseded, not-deployed, error)',
    labelNames: ['result'],
    registers: [registry],
  });
  const stages = new Histogram({
    name: `${DEPLOYER_METRICS_PREFIX}_stage_seconds`,
    help: 'Seconds the deploy stage took (gateway deploy until every function answers)',
    labelNames: ['stage'],
    buckets: BUCKETS,
    registers: [registry],
  });
  const pushToLive = new Histogram({
    name: `${DEPLOYER_METRICS_PREFIX}_push_to_live_seconds`,
    help: 'Seconds from the push webhook\'s arrival to its functions live',
    buckets: BUCKETS,
    registers: [registry],
  });
  worker.on('completed', (job: Job, outcome) => {
    results.inc({ result: outcome.outcome });
    if (outcome.outcome !== 'deployed' && outcome.outcome !== 'failed') return;
    stages.observe({ stage: 'deploy' }, outcome.ms / 1000);
    if (outcome.outcome !== 'deployed') return;
    const build = (job.data as { build?: { receivedAt?: string; trigger?: string } })?.build;
    // An admin rebuild or redeploy is not a push: its time says nothing about push-to-live.
    if (build?.trigger !== undefined && build.trigger !== 'webhook') return;
    const received = Date.parse(build?.receivedAt ?? '');
    if (Number.isFinite(received)) pushToLive.observe(Math.max(0, (now() - received) / 1000));
  });
  worker.on('failed', () => results.inc({ result: 'error' }));
  registerQueueMetrics(registry, DEPLOYER_METRICS_PREFIX, [deploys]);
}
