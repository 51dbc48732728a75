// Stores build jobs in Redis: the job id derives from repository + commit + kind
// (buildJobId), so a redelivered event finds its job already there and nothing builds
// twice; each new job gets the next sequence number of its repository and branch, which
// newest-commit-wins compares. A duplicate keeps the seq it was first given.
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { BuildHistory, newBuildId, type BuildTrigger } from '../../shared/build-history.js';
import { buildLogUrl, newBuildLogToken } from '../../shared/build-logs.js';
import { BUILDS_QUEUE, BuildJob, buildJobId, type SourceRef } from '../../shared/jobs.js';
import { seqKey } from '../../shared/supersede.js';

const SEQ_OF_JOB_TTL_SECONDS = 7 * 24 * 3600;
/** As shared/supersede.ts: sequence keys live 90 days after the last event. */
const SEQ_TTL_SECONDS = 90 * 24 * 3600;
/** How long a completed job (and so its id's dedup) is kept. */
const KEEP_COMPLETED_SECONDS = 7 * 24 * 3600;

// shared/supersede.ts nextSeq() plus a memo per job id, so a redelivered event keeps the
// number it was first given instead of superseding its own build.
// KEYS: seq, seq:sha (latest "n sha", read by isSuperseded), memo of this job id.
const NEXT_SEQ = `
local given = redis.call('GET', KEYS[3])
if given then return {tonumber(given), 1} end
local n = redis.call('INCR', KEYS[1])
redis.call('SET', KEYS[2], n .. ' ' .. ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
redis.call('SET', KEYS[3], n, 'EX', ARGV[3])
return {n, 0}
`;

export class RedisUnavailable extends Error {
  override name = 'RedisUnavailable';
  /**
   * False only when the first write never left this process (no connection): then nothing
   * is stored. A Redis that hangs, or a connection lost mid-way, may have stored the job;
   * a redelivery finds it by its id and is deduplicated.
   */
  readonly maybeStored: boolean;

  constructor(message: string, options: { cause: unknown; maybeStored: boolean }) {
    super(message, { cause: options.cause });
    this.maybeStored = options.maybeStored;
  }
}

/** ioredis's refusal of a command it never sent (enableOfflineQueue: false, not connected). */
const NOT_SENT = /Stream isn't writeable/;

export interface Enqueued {
  jobId: string;
  seq: number;
  /** The job already existed (redelivery or repeated event). */
  duplicate: boolean;
  /** The build's id in the build history, and where its log is read. */
  buildId?: string;
  logUrl?: string;
}

export interface EnqueueOptions {
  pushedBy?: string;
  /** An admin's rebuild gets a job of its own (the same commit may have been built before). */
  trigger?: BuildTrigger;
}

export interface EnqueuerSettings {
  redisUrl: string;
  prefix: string;
  /** GITFAAS_WEBHOOKS_PUBLIC_URL: build log URLs start with it (set later with usePublicUrl when the port is chosen at listen). */
  publicUrl?: string;
  historyTtlMs?: number;
  timeoutMs?: number;
}

export class BuildEnqueuer {
  readonly redis: Redis;
  readonly history: BuildHistory;
  private readonly queue: Queue;
  /** GITFAAS_QUEUE_PREFIX: the queue's and every gitfaas key's prefix. */
  readonly prefix: string;
  private publicUrl: string;
  private readonly timeoutMs: number;

  constructor(settings: EnqueuerSettings) {
    this.prefix = settings.prefix;
    this.publicUrl = settings.publicUrl ?? 'http://127.0.0.1:8081';
    this.timeoutMs = settings.timeoutMs ?? 3000;
    // No offline queue: with Redis down a command fails at once and the receiver answers
    // 503, instead of holding GitHub's request until its 10 s timeout.
    this.redis = new Redis(settings.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    this.history = new BuildHistory(this.redis, this.prefix, settings.historyTtlMs);
    this.redis.on('error', () => {});
    // EVALSHA after the first call: the script is not re-sent with every webhook.
    this.redis.defineCommand('gitfaasNextSeq', { numberOfKeys: 3, lua: NEXT_SEQ });
    this.queue = new Queue(BUILDS_QUEUE, { connection: this.redis, prefix: this.prefix });
    this.queue.on('error', () => {});
  }

  /** Waits (at most timeoutMs) for the first connection; never throws: 503s cover an outage. */
  async connected(timeoutMs = 3000): Promise<boolean> {
    if (this.redis.status === 'ready') return true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.redis.off('ready', onReady);
        resolve(false);
      }, timeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.redis.once('ready', onReady);
    });
  }

  async enqueue(kind: BuildJob['kind'], source: SourceRef, deliveryId: string, options: EnqueueOptions = {}): Promise<Enqueued> {
    const trigger = options.trigger ?? 'webhook';
    const buildId = newBuildId();
    const logToken = newBuildLogToken();
    const jobId = trigger === 'webhook' ? buildJobId(source, kind) : `${buildJobId(source, kind)}-${trigger}-${buildId}`;
    const extra = { buildId, logToken, trigger, ...(options.pushedBy ? { pushedBy: options.pushedBy } : {}) };
    // Validate before touching Redis: a bad payload is the sender's error, not a 503.
    BuildJob.parse({ kind, source, deliveryId, seq: 0, receivedAt: new Date().toISOString(), ...extra });
    let firstWriteRefused = false;
    const work = async (): Promise<Enqueued> => {
      const [seq, given] = await this.nextSeq(source, jobId).catch((err: unknown) => {
        firstWriteRefused = NOT_SENT.test(String((err as Error)?.message));
        throw err;
      });
      const job = BuildJob.parse({ kind, source, deliveryId, seq, receivedAt: new Date().toISOString(), ...extra });
      // The record exists before the job does, so the builder always finds it.
      if (given !== 1) await this.history.create({ ...job, buildId }, buildLogUrl(this.publicUrl, logToken), trigger);
      const stored = await this.queue.add('build', job, {
        jobId,
        removeOnComplete: { age: KEEP_COMPLETED_SECONDS },
        removeOnFail: { age: KEEP_COMPLETED_SECONDS },
      });
      // BullMQ returns the existing job when the id is taken; its data tells which.
      const existing = stored.data as BuildJob;
      const duplicate = given === 1 || existing.deliveryId !== deliveryId;
      if (duplicate && given !== 1) await this.history.discard(buildId, source);
      const found = duplicate ? existing : job;
      return {
        jobId,
        seq,
        duplicate,
        ...(found.buildId ? { buildId: found.buildId } : {}),
        ...(found.logToken ? { logUrl: buildLogUrl(this.publicUrl, found.logToken) } : {}),
      };
    };
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        work(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer from Redis within ${this.timeoutMs} ms`)), this.timeoutMs);
        }),
      ]);
    } catch (err) {
      const maybeStored = !firstWriteRefused;
      const what = maybeStored ? 'Redis did not confirm the build job' : 'the build job could not be stored in Redis';
      throw new RedisUnavailable(`${what}: ${(err as Error).message}`, { cause: err, maybeStored });
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The next number of the source's repository and branch, and whether this job id was
   * given one before (1: a redelivery keeps its number).
   */
  async nextSeq(source: SourceRef, jobId: string): Promise<[number, number]> {
    const key = seqKey(this.prefix, source);
    const nextSeq = (this.redis as unknown as { gitfaasNextSeq: (...args: (string | number)[]) => Promise<[number, number]> }).gitfaasNextSeq;
    return (await nextSeq.call(
      this.redis,
      key,
      `${key}:sha`,
      `${this.prefix}:seq-of:${jobId}`,
      source.sha,
      SEQ_TTL_SECONDS,
      SEQ_OF_JOB_TTL_SECONDS,
    )) as [number, number];
  }

  /** The receiver's own URL once it listens, when GITFAAS_WEBHOOKS_PUBLIC_URL is not set. */
  usePublicUrl(url: string): void {
    this.publicUrl = url.replace(/\/+$/, '');
  }

  /** A build log URL from its token. */
  logUrl(token: string): string {
    return buildLogUrl(this.publicUrl, token);
  }

  async close(): Promise<void> {
    await this.queue.close().catch(() => {});
    this.redis.disconnect();
  }
}
