// The worker's two durable pull consumers on the work stream, shared by every worker
// replica (JetStream hands each message to one of them):
//   CONSUMER            PREFIX.invoke.>    calls to run
//   CONSUMER-callbacks  PREFIX.callback.>  callbacks to deliver
import { AckPolicy, DeliverPolicy, nanos, type ConsumerConfig, type JetStreamManager } from 'nats';
import type { AsyncStreamSettings } from '../../shared/async-config.js';

export interface ConsumerSettings {
  consumer: string;
  ackWaitMs: number;
  maxAckPending: number;
  callbackTimeoutMs: number;
}

export const callbackConsumerName = (consumer: string) => `${consumer}-callbacks`;

export function consumerConfigs(s: AsyncStreamSettings, c: ConsumerSettings): Partial<ConsumerConfig>[] {
  const common = {
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    max_deliver: -1,
    max_ack_pending: c.maxAckPending,
  };
  return [
    { ...common, durable_name: c.consumer, filter_subject: `${s.subject}.invoke.>`, ack_wait: nanos(c.ackWaitMs) },
    {
      ...common,
      durable_name: callbackConsumerName(c.consumer),
      filter_subject: `${s.subject}.callback.>`,
      ack_wait: nanos(Math.max(c.ackWaitMs, c.callbackTimeoutMs * 2)),
    },
  ];
}

export async function ensureConsumers(jsm: JetStreamManager, s: AsyncStreamSettings, c: ConsumerSettings): Promise<void> {
  for (const config of consumerConfigs(s, c)) {
    const name = config.durable_name as string;
    let exists = true;
    try {
      await jsm.consumers.info(s.stream, name);
    } catch (err) {
      if (!/consumer not found/i.test((err as Error).message)) throw err;
      exists = false;
    }
    try {
      if (exists) {
        await jsm.consumers.update(s.stream, name, {
          ack_wait: config.ack_wait,
          max_ack_pending: config.max_ack_pending,
          max_deliver: config.max_deliver,
        });
      } else {
        await jsm.consumers.add(s.stream, config);
      }
    } catch (err) {
      throw new Error(`cannot ${exists ? 'update' : 'create'} consumer ${name} on stream ${s.stream}: ${(err as Error).message}`, { cause: err });
    }
  }
}
