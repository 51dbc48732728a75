// Creates or updates the two JetStream streams of the async path at start-up:
//  - the work stream (file storage, work-queue retention: a message is gone once acked)
//    holding PREFIX.invoke.NS.NAME (calls) and PREFIX.callback.NS.NAME (callbacks due);
//  - the dead-letter stream (file storage, limits retention) holding DEAD.NS.NAME.
// Both discard NEW messages when full, so a full queue is a publish error (503 at the
// gateway) and never the silent loss of work that was already accepted.
import {
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  nanos,
  type JetStreamManager,
  type StreamConfig,
} from 'nats';
import type { AsyncStreamSettings } from './async-config.js';

export function workStreamConfig(s: AsyncStreamSettings): Partial<StreamConfig> & { name: string } {
  return {
    name: s.stream,
    subjects: [`${s.subject}.invoke.>`, `${s.subject}.callback.>`],
    storage: StorageType.File,
    retention: RetentionPolicy.Workqueue,
    discard: DiscardPolicy.New,
    max_age: nanos(s.maxAgeMs),
    max_bytes: s.maxBytes === 0 ? -1 : s.maxBytes,
    duplicate_window: nanos(s.duplicateWindowMs),
    num_replicas: s.replicas,
    // The dashboard reads the oldest waiting call of each function with a direct get.
    allow_direct: true,
  };
}

export function deadStreamConfig(s: AsyncStreamSettings): Partial<StreamConfig> & { name: string } {
  return {
    name: s.deadStream,
    subjects: [`${s.deadSubject}.>`],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.New,
    max_age: nanos(s.deadMaxAgeMs),
    max_bytes: s.deadMaxBytes === 0 ? -1 : s.deadMaxBytes,
    duplicate_window: nanos(s.duplicateWindowMs),
    num_replicas: s.replicas,
    // Lets the gateway page through dead letters with direct gets, filtered by subject.
    allow_direct: true,
  };
}

async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  let exists = true;
  try {
    await jsm.streams.info(config.name);
  } catch (err) {
    if (!/stream not found/i.test((err as Error).message)) throw err;
    exists = false;
  }
  try {
    if (exists) await jsm.streams.update(config.name, config);
    else await jsm.streams.add(config);
  } catch (err) {
    throw new Error(
      `cannot ${exists ? 'update' : 'create'} JetStream stream ${config.name}: ${(err as Error).message}` +
        (exists ? ' (storage and retention cannot change on an existing stream; delete it or choose another name)' : ''),
      { cause: err },
    );
  }
}

export async function ensureAsyncStreams(jsm: JetStreamManager, s: AsyncStreamSettings): Promise<void> {
  await ensureStream(jsm, workStreamConfig(s));
  await ensureStream(jsm, deadStreamConfig(s));
}
