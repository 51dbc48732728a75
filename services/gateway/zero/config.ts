// Scale-to-zero settings: how often the idler looks and how many calls one waking function
// may hold (what a backend keeps at zero is its own: GITFAAS_ZERO_KEEP, docker/config.ts). Spread into the
// gateway's schema by config.ts (docs/configuration.md, "Scale to zero").
import { z } from 'zod';
import { durationMsVar, positiveIntVar } from '../../../shared/config.js';

export const zeroEnv = {
  GITFAAS_ZERO_TICK_MS: durationMsVar(5_000),
  GITFAAS_WAKE_QUEUE_LIMIT: positiveIntVar(1_000),
};

// Calls are counted over all gateways in the installation's Redis (the gateway's own
// GITFAAS_REDIS_URL and GITFAAS_QUEUE_PREFIX).
type Env = { [K in keyof typeof zeroEnv]: z.output<(typeof zeroEnv)[K]> } & {
  GITFAAS_REDIS_URL: string;
  GITFAAS_QUEUE_PREFIX: string;
};

export interface ZeroSettings {
  /** How often the idler checks functions labelled com.openfaas.scale.zero=true. */
  tickMs: number;
  /** Calls one function may hold while it wakes; more are answered 503 at once. */
  wakeQueueLimit: number;
  redisUrl: string;
  queuePrefix: string;
}

export function zeroSettings(env: Env): ZeroSettings {
  return { tickMs: env.GITFAAS_ZERO_TICK_MS, wakeQueueLimit: env.GITFAAS_WAKE_QUEUE_LIMIT, redisUrl: env.GITFAAS_REDIS_URL, queuePrefix: env.GITFAAS_QUEUE_PREFIX };
}
