// Pulls from a durable JetStream pull consumer and runs a handler per message, never
// holding more than `maxInflight` messages: every pull asks only for free slots (slots
// already asked for count as taken). Several pulls may be outstanding at once, so the
// worker keeps busy while a pull's round trip is under way; a new pull waits until a
// quarter of the slots are free, so a busy worker pulls in batches, not one by one.
// Stop = stop pulling, give back what arrives after that, wait for held messages.
import type { Consumer, ConsumerMessages, JetStreamClient, JsMsg } from 'nats';
import type { Logger } from '../../shared/logger.js';

export interface PullLoopOptions {
  /** The JetStream client of the current connection (throws while there is none). */
  js: () => JetStreamClient;
  stream: string;
  consumer: string;
  maxInflight: number;
  handle: (msg: JsMsg) => Promise<void>;
  log: Logger;
  /** How long one pull waits on an empty consumer. */
  expiresMs?: number;
  /** Called before pulling again after an error (e.g. re-create a deleted consumer). */
  recover?: () => Promise<void>;
  /** Whether NATS is usable now; while not, the loop waits instead of pulling. */
  usable: () => boolean;
}

export interface PullLoop {
  /** Messages held right now. */
  readonly inflight: number;
  stop(): Promise<void>;
}

export function startPullLoop(opts: PullLoopOptions): PullLoop {
  const { js, stream, consumer, maxInflight, handle, log } = opts;
  const expires = opts.expiresMs ?? 5_000;
  const minBatch = Math.max(1, Math.floor(maxInflight / 4));
  let inflight = 0;
  let requested = 0;
  let stopping = false;
  let failing = false;
  let wake: (() => void) | undefined;
  const pulls = new Set<ConsumerMessages>();
  const pullsDone = new Set<Promise<void>>();
  const idle = new Set<() => void>();
  let c: Consumer | undefined;

  const signal = () => wake?.();
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        wake = undefined;
        resolve();
      }, ms);
      wake = () => {
        clearTimeout(t);
        wake = undefined;
        resolve();
      };
    });

  const run = (msg: JsMsg) => {
    inflight++;
    handle(msg)
      .catch((err) => log.error({ err, seq: msg.seq }, 'message handler failed'))
      .finally(() => {
        inflight--;
        signal();
        if (inflight === 0) for (const f of idle) f();
      });
  };

  const pull = async (batch: ConsumerMessages, asked: number) => {
    let received = 0;
    try {
      for await (const msg of batch) {
        received++;
        requested--;
        if (stopping) {
          // Arrived after stop: give it back at once rather than after ack_wait.
          msg.nak();
          continue;
        }
        run(msg);
      }
    } catch (err) {
      if (!stopping) {
        failing = true;
        c = undefined;
        log.warn({ err, stream, consumer }, 'pull failed; retrying');
      }
    } finally {
      requested -= asked - received;
      pulls.delete(batch);
      signal();
    }
  };

  const loop = async () => {
    while (!stopping) {
      if (failing) {
        await pause(500);
        failing = false;
        await opts.recover?.().catch((e) => log.warn({ err: e }, 'cannot recover consumer'));
        continue;
      }
      if (!opts.usable()) {
        await pause(200);
        continue;
      }
      const free = maxInflight - inflight - requested;
      if (free <= 0 || (free < minBatch && requested > 0)) {
        await pause(expires);
        continue;
      }
      try {
        c ??= await js().consumers.get(stream, consumer);
        const batch = await c.fetch({ max_messages: free, expires });
        requested += free;
        pulls.add(batch);
        const done = pull(batch, free);
        pullsDone.add(done);
        void done.finally(() => pullsDone.delete(done));
      } catch (err) {
        if (stopping) break;
        c = undefined;
        failing = true;
        log.warn({ err, stream, consumer }, 'pull failed; retrying');
      }
    }
  };
  const done = loop();

  return {
    get inflight() {
      return inflight;
    },
    async stop() {
      stopping = true;
      signal();
      await done;
      for (const batch of pulls) await batch.close().catch(() => undefined);
      await Promise.all(pullsDone);
      if (inflight > 0) await new Promise<void>((resolve) => idle.add(resolve));
    },
  };
}
