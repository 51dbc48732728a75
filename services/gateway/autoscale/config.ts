// The autoscaler's settings, spread into the gateway's schema (config.ts). It reads the
// gateway's GITFAAS_REDIS_URL and GITFAAS_QUEUE_PREFIX (one Redis per installation) and
// the deployer's GITFAAS_QUOTA_REPLICAS (the owner's replicas per function).
import { z } from 'zod';
import { booleanVar, durationMsVar } from '../../../shared/config.js';
import { quotaEnvShape } from '../../../shared/tenancy.js';

export const autoscaleEnv = {
  GITFAAS_AUTOSCALE: booleanVar(true),
  GITFAAS_AUTOSCALE_TICK_MS: durationMsVar(1_000),
  GITFAAS_AUTOSCALE_STABLE_WINDOW_MS: durationMsVar(60_000),
  GITFAAS_AUTOSCALE_PANIC_WINDOW_MS: durationMsVar(6_000),
  GITFAAS_QUOTA_REPLICAS: quotaEnvShape.GITFAAS_QUOTA_REPLICAS,
};

type Env = { [K in keyof typeof autoscaleEnv]: z.output<(typeof autoscaleEnv)[K]> } & {
  GITFAAS_REDIS_URL: string;
  GITFAAS_QUEUE_PREFIX: string;
};

export interface AutoscaleSettings {
  enabled: boolean;
  tickMs: number;
  stableWindowMs: number;
  panicWindowMs: number;
  /** Replicas per function for functions deployed from an owner's repository (com.openfaas.cloud.git-owner). */
  quotaReplicas: number;
  redisUrl: string;
  queuePrefix: string;
}

export function autoscaleSettings(env: Env): AutoscaleSettings {
  return {
    enabled: env.GITFAAS_AUTOSCALE,
    tickMs: env.GITFAAS_AUTOSCALE_TICK_MS,
    stableWindowMs: env.GITFAAS_AUTOSCALE_STABLE_WINDOW_MS,
    panicWindowMs: env.GITFAAS_AUTOSCALE_PANIC_WINDOW_MS,
    quotaReplicas: env.GITFAAS_QUOTA_REPLICAS,
    redisUrl: env.GITFAAS_REDIS_URL,
    queuePrefix: env.GITFAAS_QUEUE_PREFIX,
  };
}

/** What the schema cannot check one variable at a time: the windows against each other. */
export function autoscaleProblem(env: Pick<Env, 'GITFAAS_AUTOSCALE_PANIC_WINDOW_MS' | 'GITFAAS_AUTOSCALE_STABLE_WINDOW_MS'>): { variable: string; message: string } | undefined {
  const panic = env.GITFAAS_AUTOSCALE_PANIC_WINDOW_MS;
  const stable = env.GITFAAS_AUTOSCALE_STABLE_WINDOW_MS;
  if (panic < 1_000) return { variable: 'GITFAAS_AUTOSCALE_PANIC_WINDOW_MS', message: 'expected at least 1000 (load is counted per second)' };
  if (stable < panic) return { variable: 'GITFAAS_AUTOSCALE_STABLE_WINDOW_MS', message: `expected at least GITFAAS_AUTOSCALE_PANIC_WINDOW_MS (${panic})` };
  return undefined;
}
