// The queue-worker: connects to NATS, makes sure the streams and its consumers exist,
// then runs two pull loops (calls, callbacks). stop(): stop pulling, let in-flight calls
// finish (a call waiting for a retry is handed back to JetStream at once), deliver the
// callbacks in hand, flush acks, close.
import type { JetStreamClient, NatsConnection } from 'nats';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { Agent } from 'undici';
import { ensureAsyncStreams } from '../../shared/async-streams.js';
import { NatsLink } from '../../shared/async-nats.js';
import { startHealthListener } from '../../shared/health-listener.js';
import type { Logger } from '../../shared/logger.js';
import type { RunningService } from '../../shared/run-service.js';
import { AnnotationCache } from './annotations.js';
import { deliverCallback } from './callback.js';
import { guardedConnector } from './callback-connector.js';
import type { QueueWorkerConfig } from './config.js';
import { callbackConsumerName, ensureConsumers } from './consumers.js';
import { registerQueueWorkerMetrics } from './metrics.js';
import { processCall } from './process-call.js';
import { startPullLoop } from './pull-loop.js';

export interface QueueWorker extends RunningService {
  /** Calls and callbacks held right now. */
  inflight(): { calls: number; callbacks: number };
  /** The /healthz and /metrics listener's URL, when GITFAAS_QUEUE_WORKER_HEALTH_PORT is set. */
  healthUrl?: string;
}

export interface QueueWorkerDeps {
  /** The process's metrics registry (services/main.ts shares one); made here when not given. */
  registry?: Registry;
}

export async function startQueueWorker(config: QueueWorkerConfig, log: Logger, deps: QueueWorkerDeps = {}): Promise<QueueWorker> {
  const s = config.streams;
  const consumerSettings = {
    consumer: config.consumer,
    ackWaitMs: config.ackWaitMs,
    maxAckPending: config.maxAckPending,
    callbackTimeoutMs: config.callback.timeoutMs,
  };
  const link = new NatsLink({
    servers: s.natsServers,
    name: `gitfaas-queue-worker-${process.pid}`,
    log,
    prepare: async (nc) => {
      const jsm = await nc.jetstreamManager();
      await ensureAsyncStreams(jsm, s);
      await ensureConsumers(jsm, s, consumerSettings);
    },
  }).start();
  // Not awaiting the connection: the worker starts (and stops) while NATS is down, and its
  // loops wait until the link is usable.
  const clients = new WeakMap<NatsConnection, JetStreamClient>();
  const js = (): JetStreamClient => {
    const nc = link.connection;
    if (!nc) throw new Error('NATS is not connected');
    let client = clients.get(nc);
    if (!client) clients.set(nc, (client = nc.jetstream()));
    return client;
  };

  const dispatcher = new Agent({ connections: config.maxInflight + 8, keepAliveTimeout: 30_000 });
  // Callbacks connect only through the policy's connector: every resolved address is checked.
  const callbackDispatcher = new Agent({
    connections: config.maxInflight + 8,
    keepAliveTimeout: 30_000,
    connect: config.callback.policy ? guardedConnector(config.callback.policy) : undefined,
  });
  let signalStop!: () => void;
  const stopping = new Promise<void>((resolve) => (signalStop = resolve));
  let isStopping = false;
  const annotations = new AnnotationCache({
    gatewayUrl: config.gatewayUrl,
    user: config.adminUser,
    password: config.adminPassword,
    ttlMs: config.annotationCacheMs,
    log,
  });
  const recover = async () => {
    const nc = link.connection;
    if (!nc) return;
    const jsm = await nc.jetstreamManager();
    await ensureAsyncStreams(jsm, s);
    await ensureConsumers(jsm, s, consumerSettings);
  };

  const calls = startPullLoop({
    js,
    stream: s.stream,
    consumer: config.consumer,
    maxInflight: config.maxInflight,
    log,
    recover,
    usable: () => link.usable,
    handle: (msg) =>
      processCall(msg, {
        js,
        streams: s,
        dispatcher,
        callbackDispatcher,
        callback: config.callback,
        inlineCallbackTimeoutMs: Math.min(config.callback.timeoutMs, 2_000),
        gatewayUrl: config.gatewayUrl,
        invokeTimeoutMs: config.invokeTimeoutMs,
        ackWaitMs: config.ackWaitMs,
        defaults: config.retry,
        annotations,
        log,
        stopping,
        isStopping: () => isStopping,
      }),
  });
  const callbacks = startPullLoop({
    js,
    stream: s.stream,
    consumer: callbackConsumerName(config.consumer),
    maxInflight: config.maxInflight,
    log,
    recover,
    usable: () => link.usable,
    handle: (msg) => deliverCallback(msg, callbackDispatcher, config.callback, log),
  });
  const registry = deps.registry ?? new Registry();
  if (!deps.registry) collectDefaultMetrics({ register: registry });
  registerQueueWorkerMetrics(registry, {
    manager: async () => (link.usable && link.connection ? link.connection.jetstreamManager() : undefined),
    streams: s,
    consumers: { calls: config.consumer, callbacks: callbackConsumerName(config.consumer) },
    inflight: () => ({ calls: calls.inflight, callbacks: callbacks.inflight }),
  });
  const health = await startHealthListener({ settings: config.health, portVariable: 'GITFAAS_QUEUE_WORKER_HEALTH_PORT', registry, log, healthy: () => link.usable }).catch(async (err) => {
    await calls.stop();
    await callbacks.stop();
    await link.close();
    throw err;
  });
  log.info({ stream: s.stream, consumer: config.consumer, maxInflight: config.maxInflight }, 'queue-worker started');

  let stopped: Promise<void> | undefined;
  return {
    healthUrl: health?.url,
    inflight: () => ({ calls: calls.inflight, callbacks: callbacks.inflight }),
    stop: () =>
      (stopped ??= (async () => {
        isStopping = true;
        await health?.stop();
        signalStop();
        await calls.stop();
        await callbacks.stop();
        await link.close();
        await dispatcher.close();
        await callbackDispatcher.close();
      })()),
  };
}
