// Remembers the check run id of each (repository, sha, context) in Redis so that every
// report after the first updates the same check run, whichever worker or retry sends it.
// The first reporter takes a short lock and creates the run; others wait for its id.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { SourceRef } from './jobs.js';

const ID_TTL_SECONDS = 30 * 24 * 3600;
const LOCK_MS = 30_000;
const WAIT_MS = 30_000;
const POLL_MS = 50;

export class CheckRunStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(source: Pick<SourceRef, 'scm' | 'repoId' | 'sha'>, context: string): string {
    return `${this.prefix}:checkrun:${source.scm}:${source.repoId}:${source.sha}:${context}`;
  }

  async upsert(
    source: Pick<SourceRef, 'scm' | 'repoId' | 'sha'>,
    context: string,
    create: () => Promise<number>,
    update: (id: number) => Promise<void>,
  ): Promise<void> {
    const key = this.key(source, context);
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const existing = await this.redis.get(key);
      if (existing) return update(Number(existing));
      const token = randomUUID();
      const locked = await this.redis.set(`${key}:lock`, token, 'PX', LOCK_MS, 'NX');
      if (locked === 'OK') {
        try {
          // Another holder may have stored the id between our GET and SET NX.
          const raced = await this.redis.get(key);
          if (raced) return update(Number(raced));
          const id = await create();
          await this.redis.set(key, String(id), 'EX', ID_TTL_SECONDS);
          return;
        } finally {
          await this.redis.eval(
            "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
            1,
            `${key}:lock`,
            token,
          );
        }
      }
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for another reporter to create check run "${context}" for ${source.sha}`);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }
}
