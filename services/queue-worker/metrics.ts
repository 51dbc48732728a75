// The queue-worker's metrics. JetStream's own figures are read at scrape time (consumer
// and stream info), so they hold for the whole cluster, whichever replica is scraped:
//   gitfaas_queue_worker_jetstream_up                    1 when the figures below could be read
//   gitfaas_queue_worker_consumer_pending{consumer}      messages not yet delivered
//   gitfaas_queue_worker_consumer_ack_pending{consumer}  delivered, not yet acknowledged
//   gitfaas_queue_worker_consumer_redelivered{consumer}  delivered more than once, not yet acknowledged
//   gitfaas_queue_worker_dead_letters                    dead letters stored now
//   gitfaas_queue_worker_dead_letters_total              dead letters ever written (the stream's last sequence)
// and this process's own work:
//   gitfaas_queue_worker_inflight{kind}                  calls and callbacks held right now
import type { JetStreamManager } from 'nats';
import { Gauge, type Registry } from 'prom-client';
import type { AsyncStreamSettings } from '../../shared/async-config.js';

export const QUEUE_WORKER_METRICS_PREFIX = 'gitfaas_queue_worker';

export interface QueueWorkerMetricsSource {
  /** Undefined while NATS is not connected. */
  manager: () => Promise<JetStreamManager | undefined>;
  streams: AsyncStreamSettings;
  /** Durable names: the calls consumer and the callbacks consumer. */
  consumers: { calls: string; callbacks: string };
  inflight: () => { calls: number; callbacks: number };
}

interface Figures {
  consumers: { name: string; pending: number; ackPending: number; redelivered: number }[];
  deadStored: number;
  deadEver: number;
}

export function registerQueueWorkerMetrics(registry: Registry, source: QueueWorkerMetricsSource): void {
  const p = QUEUE_WORKER_METRICS_PREFIX;
  // One read of JetStream per scrape, shared by the gauges' collect() calls: prom-client
  // starts them in registration order, so the first (jetstream_up) starts a fresh read and
  // the others reuse it (or read again when it is older than a second, e.g. a single-metric get).
  let last: { at: number; figures: Promise<Figures | undefined> } | undefined;
  const read = (fresh: boolean): Promise<Figures | undefined> => {
    if (fresh || !last || Date.now() - last.at > 1_000) last = { at: Date.now(), figures: readFigures(source).catch(() => undefined) };
    return last.figures;
  };
  let first = true;
  const gauge = (name: string, help: string, labelNames: string[], fill: (g: Gauge, f: Figures | undefined) => void) => {
    const fresh = first;
    first = false;
    return new Gauge({
      name: `${p}_${name}`,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        fill(this, await read(fresh));
      },
    });
  };
  gauge('jetstream_up', 'Whether JetStream answered this scrape (1) or not (0)', [], (g, f) => g.set(f ? 1 : 0));
  gauge('consumer_pending', 'Messages on the consumer not yet delivered', ['consumer'], (g, f) => f?.consumers.forEach((c) => g.set({ consumer: c.name }, c.pending)));
  gauge('consumer_ack_pending', 'Messages delivered and not yet acknowledged', ['consumer'], (g, f) => f?.consumers.forEach((c) => g.set({ consumer: c.name }, c.ackPending)));
  gauge('consumer_redelivered', 'Messages delivered more than once and not yet acknowledged', ['consumer'], (g, f) => f?.consumers.forEach((c) => g.set({ consumer: c.name }, c.redelivered)));
  gauge('dead_letters', 'Dead letters stored in the dead-letter stream now', [], (g, f) => f && g.set(f.deadStored));
  // A counter in meaning (the stream's last sequence only grows), exposed as a gauge because
  // its value is read, not counted here.
  gauge('dead_letters_total', 'Dead letters ever written (the dead-letter stream\'s last sequence)', [], (g, f) => f && g.set(f.deadEver));
  new Gauge({
    name: `${p}_inflight`,
    help: 'Calls and callbacks this process holds right now',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      const now = source.inflight();
      this.set({ kind: 'calls' }, now.calls);
      this.set({ kind: 'callbacks' }, now.callbacks);
    },
  });
}

async function readFigures(source: QueueWorkerMetricsSource): Promise<Figures | undefined> {
  const jsm = await source.manager();
  if (!jsm) return undefined;
  const consumers = [];
  for (const name of [source.consumers.calls, source.consumers.callbacks]) {
    const info = await jsm.consumers.info(source.streams.stream, name);
    consumers.push({ name, pending: info.num_pending, ackPending: info.num_ack_pending, redelivered: info.num_redelivered });
  }
  const dead = await jsm.streams.info(source.streams.deadStream);
  return { consumers, deadStored: dead.state.messages, deadEver: dead.state.last_seq };
}
