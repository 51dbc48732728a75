// Scale-to-zero settings: how often the idler looks, how many calls one waking function
// may hold, and what the Docker backend keeps of a function at zero. Spread into the
// gateway's schema by config.ts (docs/configuration.md, "Scale to zero").
import { z } from 'zod';
import { durationMsVar, positiveIntVar } from '../../../shared/config.js';

export const KEEP_MODES = ['paused', 'stopped', 'removed'] as const;
export type KeepMode = (typeof KEEP_MODES)[number];

export const zeroEnv = {
  GITFAAS_ZERO_TICK_MS: durationMsVar(5_000),
  GITFAAS_WAKE_QUEUE_LIMIT: positiveIntVar(1_000),
  GITFAAS_ZERO_KEEP: z.enum(KEEP_MODES, { message: `expected one of ${KEEP_MODES.join(', ')}` }).default('paused'),
};

type Env = { [K in keyof typeof zeroEnv]: z.output<(typeof zeroEnv)[K]> };

export interface ZeroSettings {
  /** How often the idler checks functions labelled com.openfaas.scale.zero=true. */
  tickMs: number;
  /** Calls one function may hold while it wakes; more are answered 503 at once. */
  wakeQueueLimit: number;
  /** What the Docker backend keeps of a function at zero (providers/docker/keep.ts). */
  keep: KeepMode;
}

export function zeroSettings(env: Env): ZeroSettings {
  return { tickMs: env.GITFAAS_ZERO_TICK_MS, wakeQueueLimit: env.GITFAAS_WAKE_QUEUE_LIMIT, keep: env.GITFAAS_ZERO_KEEP };
}
