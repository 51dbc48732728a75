// Scale to zero and back, wired once per gateway: the call activity the proxy reports to
// (shared with the installation's other gateways through Redis), the waker it hands calls
// to a function without a ready replica, and the idler (deciding on one gateway at a time).
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { Redis } from 'ioredis';
import type { Logger } from '../../../shared/logger.js';
import { Lease } from '../autoscale/lease.js';
import type { Provider } from '../providers/provider.js';
import { CallActivity } from './call-activity.js';
import type { ZeroSettings } from './config.js';
import { Idler } from './idler.js';
import { SharedActivity } from './shared-activity.js';
import { Waker } from './waker.js';

export interface ScaleToZero {
  activity: CallActivity;
  waker: Waker;
  stop(): Promise<void>;
}

export function startScaleToZero(settings: ZeroSettings, provider: Provider, timeoutMs: number, instance: string, log: Logger): ScaleToZero {
  // The idler says when Redis is unreachable (once); the client's own errors stay at debug.
  const redis = new Redis(settings.redisUrl, { maxRetriesPerRequest: 2 }).on('error', (err) => log.debug({ err }, 'scale to zero: redis error'));
  const prefix = `${settings.queuePrefix}:zero:${instance}`;
  const id = `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const activity = new CallActivity();
  const shared = new SharedActivity(redis, prefix, activity, id, (err) => log.debug({ err }, 'scale to zero: activity not published'));
  // Three ticks without renewal (at least 3 s) hand the idler to another gateway.
  const lease = new Lease(redis, `${prefix}:lease`, id, Math.max(3 * settings.tickMs, 3_000));
  const waker = new Waker({ provider, queueLimit: settings.wakeQueueLimit, timeoutMs, log });
  const idler = new Idler({ provider, activity: shared, lease, isWaking: (fn) => waker.isWaking(fn), tickMs: settings.tickMs, log });
  void shared.start();
  idler.start();
  return {
    activity,
    waker,
    stop: async () => {
      await idler.stop();
      await shared.stop();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
