// Every metric name the code registers, read off real registrations into one registry (the
// single process's view: services/main.ts), for the tests of what deploy/ queries.
import { Queue, Worker } from 'bullmq';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { BuildOutcome } from '../../services/builder/build-commit.js';
import { observeBuilds } from '../../services/builder/metrics.js';
import type { DeployOutcome } from '../../services/deployer/deploy-job.js';
import { observeDeploys } from '../../services/deployer/metrics.js';
import { Invocations } from '../../services/gateway/invocations.js';
import { GatewayMetrics } from '../../services/gateway/metrics.js';
import type { Provider } from '../../services/gateway/providers/provider.js';
import { registerQueueWorkerMetrics } from '../../services/queue-worker/metrics.js';
import { countDeliveries } from '../../services/webhooks/metrics.js';
import type { AsyncStreamSettings } from '../../shared/async-config.js';
import { BUILDS_QUEUE, DEPLOYS_QUEUE } from '../../shared/jobs.js';

/** Names as Prometheus stores them: a histogram's _bucket, _sum and _count, a counter's own name. */
export async function registeredMetricNames(): Promise<Set<string>> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Invocations().register(registry);
  countDeliveries(registry);
  // Only the names are read here, never collected: the provider is never called.
  new GatewayMetrics().register(registry, {} as Provider);
  const connection = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null };
  const prefix = `t-names-${process.pid}`;
  // Real workers that never run (autorun off): only their event hooks are set.
  const buildWorker = new Worker<unknown, BuildOutcome>(BUILDS_QUEUE, async () => ({ outcome: 'superseded', by: 'none', logUrl: '' }), { connection, prefix, autorun: false });
  const deployWorker = new Worker<unknown, DeployOutcome>(DEPLOYS_QUEUE, async () => ({ outcome: 'not-deployed', reason: 'none' }), { connection, prefix, autorun: false });
  const builds = new Queue(BUILDS_QUEUE, { connection, prefix });
  const deploys = new Queue(DEPLOYS_QUEUE, { connection, prefix });
  try {
    observeBuilds(registry, buildWorker, builds);
    observeDeploys(registry, deployWorker, deploys);
    registerQueueWorkerMetrics(registry, {
      manager: async () => undefined,
      streams: {} as AsyncStreamSettings,
      consumers: { calls: 'c', callbacks: 'c-callbacks' },
      inflight: () => ({ calls: 0, callbacks: 0 }),
    });
    const names = new Set<string>();
    for (const metric of registry.getMetricsAsArray()) {
      const { name, type } = metric as unknown as { name: string; type: string };
      names.add(name);
      if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    }
    return names;
  } finally {
    await buildWorker.close();
    await deployWorker.close();
    await builds.close();
    await deploys.close();
  }
}
