// Build logs in Redis: one stream per build under a token that is hard to guess (24
// random bytes, base64url), kept for a TTL (7 days by default) after the last line.
// Readable while the build runs (follow) and after it ends. Keys sit under the queue prefix
// (GITFAAS_QUEUE_PREFIX), like every key of an instance.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

export const DEFAULT_BUILD_LOG_TTL_MS = 7 * 24 * 3600 * 1000;
const TOKEN = /^[A-Za-z0-9_-]{32}$/;

export const buildLogKey = (prefix: string, token: string) => `${prefix}:buildlog:${token}`;

export function isBuildLogToken(token: string): boolean {
  return TOKEN.test(token);
}

export function newBuildLogToken(): string {
  return randomBytes(24).toString('base64url');
}

/** The public URL of a build log. */
export function buildLogUrl(publicBaseUrl: string, token: string): string {
  return `${publicBaseUrl.replace(/\/+$/, '')}/logs/${token}`;
}

/**
 * The writing end of one build log. Lines are written in order (each append waits for
 * the one before), so a reader never sees them out of order. Write errors are not
 * thrown at the builder (a log must not fail a build) but kept for `end()` to report.
 */
export class BuildLog {
  readonly token: string;
  private chain: Promise<void> = Promise.resolve();
  private ended = false;
  private writeError: Error | undefined;
  private readonly recent: string[] = [];
  private static readonly TAIL_LINES = 60;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlMs = DEFAULT_BUILD_LOG_TTL_MS,
    token = newBuildLogToken(),
  ) {
    this.token = token;
  }

  get key(): string {
    return buildLogKey(this.prefix, this.token);
  }

  /** Appends one or more lines (a chunk with newlines becomes several lines). */
  line(text: string): void {
    if (this.ended) return;
    const lines = text.replace(/\r\n?/g, '\n').replace(/\n$/, '').split('\n');
    this.recent.push(...lines);
    if (this.recent.length > BuildLog.TAIL_LINES) this.recent.splice(0, this.recent.length - BuildLog.TAIL_LINES);
    this.enqueue(lines.map((l) => ['l', l]));
  }

  /** The last lines written (at most 60), for a check run's output. */
  tail(): string[] {
    return [...this.recent];
  }

  /** Marks the log finished with an outcome line; followers stop after it. */
  async end(outcome: string): Promise<void> {
    if (this.ended) return this.chain;
    this.enqueue([['l', outcome], ['end', outcome]]);
    this.ended = true;
    await this.chain;
    if (this.writeError) throw this.writeError;
  }

  /** Resolves once every line so far is stored. */
  flush(): Promise<void> {
    return this.chain;
  }

  private enqueue(entries: Array<[string, string]>): void {
    this.chain = this.chain.then(async () => {
      try {
        const pipeline = this.redis.pipeline();
        for (const [field, value] of entries) pipeline.xadd(this.key, '*', field, value);
        pipeline.pexpire(this.key, this.ttlMs);
        const results = await pipeline.exec();
        const failed = results?.find(([err]) => err);
        if (failed) throw failed[0];
      } catch (err) {
        this.writeError ??= new Error(`build log ${this.token.slice(0, 6)}…: ${(err as Error).message}`, { cause: err });
      }
    });
  }
}

export interface LogChunk {
  lines: string[];
  /** Id of the last entry read; pass it back to read on. */
  lastId: string;
  ended: boolean;
}

type StreamEntries = Array<[string, string[]]>;

function toChunk(entries: StreamEntries, lastId: string): LogChunk {
  const lines: string[] = [];
  let ended = false;
  for (const [id, fields] of entries) {
    lastId = id;
    for (let i = 0; i < fields.length; i += 2) {
      if (fields[i] === 'l') lines.push(fields[i + 1]);
      if (fields[i] === 'end') ended = true;
    }
  }
  return { lines, lastId, ended };
}

/** Whether a log with this token exists (it may still be empty of lines). */
export async function buildLogExists(redis: Redis, prefix: string, token: string): Promise<boolean> {
  return isBuildLogToken(token) && (await redis.exists(buildLogKey(prefix, token))) === 1;
}

/** Everything stored after `afterId` ("0" from the start). */
export async function readBuildLog(redis: Redis, prefix: string, token: string, afterId = '0'): Promise<LogChunk> {
  const start = afterId === '0' ? '-' : `(${afterId}`;
  const entries = (await redis.xrange(buildLogKey(prefix, token), start, '+')) as StreamEntries;
  return toChunk(entries, afterId);
}

/**
 * Waits up to blockMs for entries after `afterId` on a connection of its own (XREAD
 * BLOCK holds the connection), returning an empty chunk on timeout.
 */
export async function waitBuildLog(blocking: Redis, prefix: string, token: string, afterId: string, blockMs: number): Promise<LogChunk> {
  const result = (await blocking.xread('BLOCK', blockMs, 'STREAMS', buildLogKey(prefix, token), afterId)) as
    | Array<[string, StreamEntries]>
    | null;
  if (!result || result.length === 0) return { lines: [], lastId: afterId, ended: false };
  return toChunk(result[0][1], afterId);
}
