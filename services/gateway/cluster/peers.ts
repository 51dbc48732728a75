// How gateway processes of one host talk (GITFAAS_GATEWAY_PROCESSES > 1): a worker asks the
// primary to gather a snapshot from every worker (itself included) or to tell all of them
// something. Node's cluster IPC carries the messages; nothing listens on a port for this.
// A gateway that is not a cluster worker gets a Peers that only asks itself, so callers
// never branch on the mode.
import cluster from 'node:cluster';

export type Answer = () => unknown | Promise<unknown>;
export type Notice = (payload: unknown) => void;

export interface Peers {
  /** How many gateway processes answer (1 outside a cluster). */
  readonly size: number;
  /** Registers this process's answer to a gather on `topic`. */
  answer(topic: string, answer: Answer): void;
  /** Registers what this process does when told `topic`. */
  listen(topic: string, notice: Notice): void;
  /** Every process's answer to `topic`, this one's included. */
  gather(topic: string): Promise<unknown[]>;
  /** Tells every process (this one included) `topic`. */
  tell(topic: string, payload: unknown): void;
}

/** Messages between a worker and the primary; `gitfaas` marks them as ours. */
export type PeerMessage =
  | { gitfaas: 'gather'; id: number; topic: string }
  | { gitfaas: 'gathered'; id: number; answers: unknown[]; error?: string }
  | { gitfaas: 'ask'; id: number; topic: string }
  | { gitfaas: 'answer'; id: number; answer?: unknown; error?: string }
  | { gitfaas: 'tell'; topic: string; payload: unknown }
  | { gitfaas: 'listening'; port: number }
  | { gitfaas: 'size'; size: number };

export const GATHER_TIMEOUT_MS = 5_000;

/** This process alone. */
export class SoloPeers implements Peers {
  readonly size = 1;
  private readonly answers = new Map<string, Answer>();
  private readonly notices = new Map<string, Notice>();
  answer(topic: string, answer: Answer): void {
    this.answers.set(topic, answer);
  }
  listen(topic: string, notice: Notice): void {
    this.notices.set(topic, notice);
  }
  async gather(topic: string): Promise<unknown[]> {
    const answer = this.answers.get(topic);
    return answer ? [await answer()] : [];
  }
  tell(topic: string, payload: unknown): void {
    this.notices.get(topic)?.(payload);
  }
}

/** A cluster worker's side: answers the primary's asks, and gathers through it. */
export class WorkerPeers implements Peers {
  size: number;
  private readonly answers = new Map<string, Answer>();
  private readonly notices = new Map<string, Notice>();
  private readonly pending = new Map<number, { resolve: (a: unknown[]) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private next = 0;

  constructor(size: number) {
    this.size = size;
    process.on('message', (message: PeerMessage) => this.onMessage(message));
  }

  answer(topic: string, answer: Answer): void {
    this.answers.set(topic, answer);
  }

  listen(topic: string, notice: Notice): void {
    this.notices.set(topic, notice);
  }

  gather(topic: string): Promise<unknown[]> {
    const id = ++this.next;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`gateway processes did not answer "${topic}" within ${GATHER_TIMEOUT_MS} ms`));
      }, GATHER_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      process.send!({ gitfaas: 'gather', id, topic } satisfies PeerMessage);
    });
  }

  tell(topic: string, payload: unknown): void {
    process.send!({ gitfaas: 'tell', topic, payload } satisfies PeerMessage);
  }

  private onMessage(message: PeerMessage): void {
    switch (message?.gitfaas) {
      case 'gathered': {
        const waiting = this.pending.get(message.id);
        if (!waiting) return;
        this.pending.delete(message.id);
        clearTimeout(waiting.timer);
        if (message.error) waiting.reject(new Error(message.error));
        else waiting.resolve(message.answers);
        return;
      }
      case 'ask': {
        const answer = this.answers.get(message.topic);
        const reply = (m: PeerMessage) => process.connected && process.send!(m);
        if (!answer) return void reply({ gitfaas: 'answer', id: message.id, error: `no answer for "${message.topic}"` });
        Promise.resolve()
          .then(answer)
          .then(
            (value) => reply({ gitfaas: 'answer', id: message.id, answer: value }),
            (err: Error) => reply({ gitfaas: 'answer', id: message.id, error: err.message }),
          );
        return;
      }
      case 'tell':
        this.notices.get(message.topic)?.(message.payload);
        return;
      case 'size':
        this.size = message.size;
        return;
    }
  }
}

/** The Peers for this process: a worker's when it runs under the gateway's primary. */
export function processPeers(): Peers {
  const size = Number(process.env.GITFAAS_GATEWAY_WORKER_OF);
  return cluster.isWorker && size > 0 ? new WorkerPeers(size) : new SoloPeers();
}
