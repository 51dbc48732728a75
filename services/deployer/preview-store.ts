// What is known of each pull request's previews, in Redis under the queue prefix: the
// pull request's source (for the sweep, which has no event to read it from), each
// function's preview name, URL and state (for the sticky comment), when it was last
// pushed to (a sorted set the TTL sweep reads), and when it was closed (a deploy of a
// commit received before that must not bring the previews back).
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { SourceRef } from '../../shared/jobs.js';

export const PreviewFunction = z.object({
  /** The stack.yml name, the preview's name, its URL, and how it stands. */
  name: z.string(),
  preview: z.string(),
  url: z.string().optional(),
  state: z.enum(['deploying', 'live', 'failed', 'removed']),
  detail: z.string().optional(),
});
export type PreviewFunction = z.infer<typeof PreviewFunction>;

export interface PreviewRecord {
  source: SourceRef & { pullRequest: number };
  functions: PreviewFunction[];
  lastPushAt: number;
  closedAt?: number;
}

export type PreviewKey = Pick<SourceRef, 'scm' | 'repoId'> & { pullRequest: number };

const member = (key: PreviewKey) => `${key.scm}:${key.repoId}:${key.pullRequest}`;

export class PreviewStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    /** Records outlive the TTL by this much, so a closed flag is still seen by late deploys. */
    private readonly keepMs = 30 * 24 * 3600 * 1000,
  ) {}

  private key(key: PreviewKey): string {
    return `${this.prefix}:preview:${member(key)}`;
  }

  private get index(): string {
    return `${this.prefix}:previews`;
  }

  async get(key: PreviewKey): Promise<PreviewRecord | undefined> {
    const fields = await this.redis.hgetall(this.key(key));
    if (!fields.source) return undefined;
    return {
      source: SourceRef.extend({ pullRequest: z.number().int() }).parse(JSON.parse(fields.source)),
      functions: z.array(PreviewFunction).parse(JSON.parse(fields.functions ?? '[]')),
      lastPushAt: Number(fields.lastPushAt ?? 0),
      ...(fields.closedAt ? { closedAt: Number(fields.closedAt) } : {}),
    };
  }

  /** A push deployed (or is deploying) previews: the record's source, functions and push time. */
  async pushed(source: PreviewRecord['source'], functions: PreviewFunction[], at = Date.now()): Promise<void> {
    const k = this.key(source);
    await this.redis
      .multi()
      .hset(k, { source: JSON.stringify(source), functions: JSON.stringify(functions), lastPushAt: String(at) })
      .hdel(k, 'closedAt')
      .pexpire(k, this.keepMs)
      .zadd(this.index, at, member(source))
      .exec();
  }

  /** The functions' states, without touching the push time. */
  async setFunctions(key: PreviewKey, functions: PreviewFunction[]): Promise<void> {
    await this.redis.hset(this.key(key), 'functions', JSON.stringify(functions));
  }

  /** Closed, merged or expired: no longer swept, and older deploys are refused. */
  async closed(source: PreviewRecord['source'], functions: PreviewFunction[], at = Date.now()): Promise<void> {
    const k = this.key(source);
    await this.redis
      .multi()
      .hset(k, { source: JSON.stringify(source), functions: JSON.stringify(functions), closedAt: String(at) })
      .pexpire(k, this.keepMs)
      .zrem(this.index, member(source))
      .exec();
  }

  /** Pull requests whose last push is older than `before` (ms since the epoch). */
  async idleSince(before: number): Promise<PreviewKey[]> {
    const members = await this.redis.zrangebyscore(this.index, 0, before);
    return members.map((m) => {
      const [scm, repoId, pr] = m.split(':');
      return { scm: scm as SourceRef['scm'], repoId: Number(repoId), pullRequest: Number(pr) };
    });
  }

  /** Moves a pull request's last push time (the sweep's tests age a preview with it). */
  async setLastPush(key: PreviewKey, at: number): Promise<void> {
    await this.redis.multi().hset(this.key(key), 'lastPushAt', String(at)).zadd(this.index, at, member(key)).exec();
  }
}
