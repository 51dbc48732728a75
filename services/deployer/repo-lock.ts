// One deploy at a time per repository and branch, across deployer processes: the
// compare-and-set in shared/supersede.ts (claimDeploy) orders the claims, and this lock
// keeps an older deploy that claimed first from finishing its PUTs after a newer one.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

const RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";
const EXTEND = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0";

export async function withRepoLock<T>(redis: Redis, key: string, waitMs: number, work: () => Promise<T>, ttlMs = 30_000): Promise<T> {
  const token = randomUUID();
  const deadline = Date.now() + waitMs;
  while ((await redis.set(key, token, 'PX', ttlMs, 'NX')) !== 'OK') {
    if (Date.now() > deadline) throw new Error(`another deploy of this repository held the lock for over ${Math.round(waitMs / 1000)} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // Kept alive while the work runs, so a long readiness wait does not lose the lock.
  const keepAlive = setInterval(() => void redis.eval(EXTEND, 1, key, token, ttlMs).catch(() => {}), ttlMs / 3);
  try {
    return await work();
  } finally {
    clearInterval(keepAlive);
    await redis.eval(RELEASE, 1, key, token).catch(() => {});
  }
}
