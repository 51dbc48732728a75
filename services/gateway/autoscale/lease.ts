// One decider among several gateways: a Redis key holding the decider's id with an expiry,
// renewed every tick. A gateway that stops renewing (crash, partition) loses it after
// `ttlMs` and another takes over; a gateway that stops cleanly hands it back at once.
import type { Redis } from 'ioredis';

// Renew when ours, take when free; atomic, so two gateways never both believe they hold it.
const HOLD = `
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0`;

export class Lease {
  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    readonly id: string,
    private readonly ttlMs: number,
  ) {}

  /** True when this gateway holds the lease (taken now or renewed). */
  async hold(): Promise<boolean> {
    return (await this.redis.eval(HOLD, 1, this.key, this.id, String(this.ttlMs))) === 1;
  }

  /** Who holds it now, if anyone. */
  holder(): Promise<string | null> {
    return this.redis.get(this.key);
  }

  async release(): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.key, this.id);
  }
}
