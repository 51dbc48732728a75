// Removes what a test (or benchmark) wrote to the shared Redis: every key matching the
// given patterns (a fresh queue prefix, the seq counters of its repositories).
import type { Redis } from 'ioredis';

export async function deleteKeys(redis: Redis, patterns: readonly string[]): Promise<void> {
  for (const match of patterns) {
    for await (const keys of redis.scanStream({ match, count: 1000 })) {
      if ((keys as string[]).length) await redis.del(...(keys as string[]));
    }
  }
}
