// Wires the autoscaler for one gateway: the call observer the proxy reports to, the shared
// load in Redis, the lease and the loop. Disabled (GITFAAS_AUTOSCALE=false), it still answers
// `explain` so the status says why nothing scales.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { Redis } from 'ioredis';
import type { Logger } from '../../../shared/logger.js';
import type { Provider } from '../providers/provider.js';
import type { CallObserver } from '../proxy-call.js';
import { Autoscaler, type Explanation } from './autoscaler.js';
import type { AutoscaleSettings } from './config.js';
import { CallLoad } from './load.js';
import { SharedLoad } from './shared-load.js';

export interface Autoscaling {
  /** Given to the proxy: counts calls per function (null when disabled). */
  observer: CallObserver | null;
  explain(name: string, namespace: string): Promise<Explanation | { enabled: false; reason: string } | undefined>;
  stop(): Promise<void>;
}

export function startAutoscaling(opts: { settings: AutoscaleSettings; provider: Provider; instance: string; maxReplicas: number; log: Logger }): Autoscaling {
  const { settings, log } = opts;
  if (!settings.enabled) {
    return { observer: null, explain: async () => ({ enabled: false, reason: 'the autoscaler is off (GITFAAS_AUTOSCALE=false)' }), stop: async () => undefined };
  }
  const redis = new Redis(settings.redisUrl, { maxRetriesPerRequest: 2 });
  let redisDown = false;
  redis.on('error', (err) => {
    if (!redisDown) log.warn({ err }, 'autoscaler: Redis unreachable; replica counts are held until it is back');
    redisDown = true;
  });
  redis.on('ready', () => (redisDown = false));
  const prefix = `${settings.queuePrefix}:autoscale:${opts.instance}`;
  const calls = new CallLoad();
  // Kept for the stable window and a little more: the decider reads only the panic window.
  const load = new SharedLoad(redis, prefix, calls, settings.stableWindowMs + 10_000, (err) => log.debug({ err }, 'autoscaler: load flush failed'));
  const id = `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const autoscaler = new Autoscaler({ provider: opts.provider, redis, load, settings, maxReplicas: opts.maxReplicas, prefix, id, log });
  load.start();
  autoscaler.start();
  return {
    observer: calls,
    explain: (name, namespace) => autoscaler.explain(name, namespace),
    stop: async () => {
      await autoscaler.stop();
      await load.stop();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
