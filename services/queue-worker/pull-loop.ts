// Pulls from a durable JetStream pull consumer and runs a handler per message, never
// holding more than `maxInflight` messages at once: each fetch asks for exactly the free
// slots. Stop = stop pulling, then wait for every held message's handler to finish.
import type { Consumer, JetStreamClient, JsMsg } from 'nats';
import type { Logger } from '../../shared/logger.js';

export interface PullLoopOptions {
  js: JetStreamClient;
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
  let inflight = 0;
  let stopping = false;
  let wake: (() => void) | undefined;
  let current: { close(): Promise<void | Error> } | undefined;
  const idle = new Set<() => void>();
  let c: Consumer | undefined;

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
        wake?.();
        if (inflight === 0) for (const f of idle) f();
      });
  };

  const loop = async () => {
    while (!stopping) {
      if (!opts.usable()) {
        await pause(200);
        continue;
      }
      const free = maxInflight - inflight;
      if (free <= 0) {
        await pause(1_000);
        continue;
      }
      try {
        c ??= await js.consumers.get(stream, consumer);
        const batch = await c.fetch({ max_messages: free, expires });
        current = batch;
        for await (const msg of batch) {
          if (stopping) {
            // Pulled but not started: give it back at once rather than after ack_wait.
            msg.nak();
            continue;
          }
          run(msg);
        }
      } catch (err) {
        if (stopping) break;
        c = undefined;
        log.warn({ err, stream, consumer }, 'pull failed; retrying');
        await pause(500);
        await opts.recover?.().catch((e) => log.warn({ err: e }, 'cannot recover consumer'));
      } finally {
        current = undefined;
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
      wake?.();
      await current?.close().catch(() => undefined);
      await done;
      if (inflight > 0) await new Promise<void>((resolve) => idle.add(resolve));
    },
  };
}
