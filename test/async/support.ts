// Pieces the async tests share: unique stream names per test (the NATS server is shared
// with other engineers' tests), a callback receiver on 127.0.0.1, stream clean-up.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { connect } from 'nats';
import type { AsyncStreamSettings } from '../../shared/async-config.js';
import { repoRoot } from '../helpers/repo-root.js';
export { freePort } from '../helpers/free-port.js';

/** Environment naming fresh streams, subjects and a consumer for one test. */
export function uniqueAsyncEnv(): Record<string, string> {
  const id = randomBytes(4).toString('hex');
  return {
    GITFAAS_ASYNC_STREAM: `T_ASYNC_${id}`,
    GITFAAS_ASYNC_SUBJECT: `t.${id}.async`,
    GITFAAS_ASYNC_DEAD_STREAM: `T_DEAD_${id}`,
    GITFAAS_ASYNC_DEAD_SUBJECT: `t.${id}.dead`,
    GITFAAS_ASYNC_CONSUMER: `t-worker-${id}`,
    GITFAAS_ASYNC_MAX_BYTES: String(256 * 1024 * 1024),
  };
}

/** Deletes the test's streams (their consumers go with them). */
export async function deleteStreams(s: Pick<AsyncStreamSettings, 'stream' | 'deadStream'>, servers = ['nats://127.0.0.1:4222']): Promise<void> {
  const nc = await connect({ servers });
  try {
    const jsm = await nc.jetstreamManager();
    for (const name of [s.stream, s.deadStream]) await jsm.streams.delete(name).catch(() => undefined);
  } finally {
    await nc.close();
  }
}

export interface ReceivedCallback {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  at: number;
}

export interface CallbackReceiver {
  url: string;
  /** Callbacks by X-Call-Id (every delivery, in order of arrival). */
  byCallId: Map<string, ReceivedCallback[]>;
  count(): number;
  /** Answer this status instead of 204 for the next n callbacks. */
  failNext(n: number, status: number): void;
  close(): Promise<void>;
}

export async function startCallbackReceiver(): Promise<CallbackReceiver> {
  const byCallId = new Map<string, ReceivedCallback[]>();
  let total = 0;
  let failing = 0;
  let failStatus = 500;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (failing > 0) {
        failing--;
        res.writeHead(failStatus).end();
        return;
      }
      const id = String(req.headers['x-call-id'] ?? '');
      const list = byCallId.get(id) ?? [];
      list.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks), at: Date.now() });
      byCallId.set(id, list);
      total++;
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/cb`,
    byCallId,
    count: () => total,
    failNext: (n, status) => {
      failing = n;
      failStatus = status;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Starts a queue-worker as a child process (node dist/services/queue-worker/main.js). */
export function spawnWorker(env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [path.join(repoRoot(), 'dist/services/queue-worker/main.js')], {
    env: { PATH: process.env.PATH ?? '', GITFAAS_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.on('data', (d: Buffer) => process.stderr.write(`[worker ${child.pid}] ${d}`));
  return child;
}

/** Resolves with the exit code (or signal) once the child has exited. */
export function exited(child: ChildProcess): Promise<number | string> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  if (child.signalCode !== null) return Promise.resolve(child.signalCode);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
}


/** Numbers of the invoke consumer: messages not yet delivered, and delivered but not acked. */
export async function consumerState(servers: string[], stream: string, consumer: string): Promise<{ pending: number; ackPending: number }> {
  const nc = await connect({ servers });
  try {
    const info = await (await nc.jetstreamManager()).consumers.info(stream, consumer);
    return { pending: info.num_pending, ackPending: info.num_ack_pending };
  } finally {
    await nc.close();
  }
}

/** The admin password inside a test gateway's basic auth header. */
export function adminPassword(gw: { authHeader: string }): string {
  const decoded = Buffer.from(gw.authHeader.replace(/^Basic /, ''), 'base64').toString();
  return decoded.slice(decoded.indexOf(':') + 1);
}
