// GITFAAS_GATEWAY_PROCESSES > 1: this process forks that many gateway workers that share
// the listening port (Node's cluster), relays their gathers (invocation counts, metrics),
// replaces a worker that dies, and stops them all on stop(). Each worker is a whole
// gateway: its own provider, endpoint cache (fed by the backend's events) and pools.
import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../../shared/logger.js';
import type { RunningService } from '../../../shared/run-service.js';
import { GATHER_TIMEOUT_MS, type PeerMessage } from './peers.js';

export interface GatewayProcessesOptions {
  count: number;
  /** Where the workers listen, for the URL and the messages. */
  bind: string;
  log: Logger;
  /** The worker's script; services/gateway/cluster/worker.js by default. */
  exec?: string;
  /** This process's own answers to gathers (e.g. the other services' metrics in one process). */
  answers?: Record<string, () => unknown | Promise<unknown>>;
  /** How long stop() lets workers finish before killing them. */
  stopTimeoutMs?: number;
}

export interface RunningGatewayProcesses extends RunningService {
  url: string;
  /** The workers' process ids, in start order (a replaced worker's successor takes its place). */
  pids(): number[];
}

/** Stands for this process in a gather's set of awaited answers. */
const PRIMARY = {} as Worker;

const WORKER_SCRIPT = fileURLToPath(new URL('./worker.js', import.meta.url));

export async function startGatewayProcesses(opts: GatewayProcessesOptions): Promise<RunningGatewayProcesses> {
  const { count, log } = opts;
  cluster.setupPrimary({ exec: opts.exec ?? WORKER_SCRIPT });
  const workers = new Set<Worker>();
  const listening = new Set<Worker>();
  let stopping = false;
  let port = 0;
  let restarts = 0;
  let asked = 0;
  /** Gathers in flight: one ask per worker, answered into `answers`. */
  const gathers = new Map<number, { from: Worker; replyId: number; waiting: Set<Worker>; answers: unknown[]; timer: NodeJS.Timeout }>();

  const fork = (): Worker => {
    const worker = cluster.fork({ GITFAAS_GATEWAY_WORKER_OF: String(count) });
    workers.add(worker);
    worker.on('message', (message: PeerMessage) => onMessage(worker, message));
    worker.on('exit', (code, signal) => onExit(worker, code, signal));
    return worker;
  };

  const onMessage = (worker: Worker, message: PeerMessage): void => {
    switch (message?.gitfaas) {
      case 'listening':
        port = message.port;
        listening.add(worker);
        return;
      case 'gather': {
        const id = ++asked;
        const waiting = new Set(listening);
        const gather = { from: worker, replyId: message.id, waiting, answers: [] as unknown[], timer: setTimeout(() => finish(id, 'timed out'), GATHER_TIMEOUT_MS) };
        gathers.set(id, gather);
        for (const w of waiting) w.send({ gitfaas: 'ask', id, topic: message.topic } satisfies PeerMessage);
        const own = opts.answers?.[message.topic];
        if (own) {
          // Counted as one more answer to wait for, under the primary's own key.
          waiting.add(PRIMARY);
          Promise.resolve()
            .then(own)
            .then(
              (answer) => {
                if (!gather.waiting.delete(PRIMARY)) return;
                gather.answers.push(answer);
                if (gather.waiting.size === 0) finish(id);
              },
              (err: Error) => finish(id, err.message),
            );
        }
        if (waiting.size === 0) finish(id);
        return;
      }
      case 'answer': {
        const gather = gathers.get(message.id);
        if (!gather || !gather.waiting.delete(worker)) return;
        if (message.error) return finish(message.id, message.error);
        gather.answers.push(message.answer);
        if (gather.waiting.size === 0) finish(message.id);
        return;
      }
      case 'tell':
        for (const w of listening) w.send(message);
        return;
    }
  };

  const finish = (id: number, error?: string): void => {
    const gather = gathers.get(id);
    if (!gather) return;
    gathers.delete(id);
    clearTimeout(gather.timer);
    if (!gather.from.isConnected()) return;
    gather.from.send({ gitfaas: 'gathered', id: gather.replyId, answers: gather.answers, ...(error ? { error } : {}) } satisfies PeerMessage);
  };

  const onExit = (worker: Worker, code: number | null, signal: string | null): void => {
    workers.delete(worker);
    listening.delete(worker);
    // A gather waiting on the dead worker answers with what the others said.
    for (const [id, gather] of gathers) if (gather.waiting.delete(worker) && gather.waiting.size === 0) finish(id);
    if (stopping) return;
    const delay = Math.min(5_000, 100 * 2 ** restarts++);
    log.warn({ pid: worker.process.pid, code, signal, restartInMs: delay }, 'gateway process exited; starting another');
    setTimeout(() => {
      if (!stopping) fork();
    }, delay).unref();
  };
  // A worker that has served a while has proved the configuration: back-off starts over.
  const calm = setInterval(() => (restarts = 0), 30_000).unref();

  // Start: every worker listening, or the first one's failure.
  const first = [...Array(count)].map(() => fork());
  await Promise.all(
    first.map(
      (worker) =>
        new Promise<void>((resolve, reject) => {
          const check = (message: PeerMessage) => {
            if (message?.gitfaas !== 'listening') return;
            worker.off('exit', failed);
            worker.off('message', check);
            resolve();
          };
          const failed = (code: number | null) => reject(new Error(`gateway process ${worker.process.pid} exited with code ${code} before listening (its log says why)`));
          worker.on('message', check);
          worker.once('exit', failed);
        }),
    ),
  ).catch(async (err) => {
    stopping = true;
    clearInterval(calm);
    for (const w of workers) w.process.kill('SIGTERM');
    throw err;
  });
  const url = `http://${opts.bind}:${port}`;
  log.info({ url, processes: count }, 'gateway processes listening');

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      stopping = true;
      clearInterval(calm);
      const exits = [...workers].map((w) => new Promise<void>((resolve) => (w.isDead() ? resolve() : w.once('exit', () => resolve()))));
      for (const w of workers) w.process.kill('SIGTERM');
      const kill = setTimeout(() => {
        for (const w of workers) w.process.kill('SIGKILL');
      }, opts.stopTimeoutMs ?? 15_000);
      await Promise.all(exits);
      clearTimeout(kill);
    })());
  return { url, stop, pids: () => [...workers].map((w) => w.process.pid!).filter(Boolean) };
}
