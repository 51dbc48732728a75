// The dashboard's settings, spread into the gateway's schema (the gateway serves /ui/):
// the session secret and lifetime, and the Redis holding the build history and build logs.
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { durationVar, redisUrlVar } from '../../shared/config.js';

const queuePrefixVar = z
  .string()
  .default('gitfaas')
  .refine((v) => /^[A-Za-z0-9_-]+$/.test(v), { message: 'expected letters, digits, "_" or "-"' });

export const DEFAULT_SESSION_TTL_MS = 12 * 3600 * 1000;

/** Zod shape keyed by variable name; GITFAAS_DASHBOARD_SESSION_SECRET is read with withSecrets (also _FILE). */
export const dashboardEnv = {
  GITFAAS_DASHBOARD_SESSION_SECRET: z.string().min(32, 'expected at least 32 characters (e.g. head -c 32 /dev/urandom | base64)').optional(),
  GITFAAS_DASHBOARD_SESSION_TTL: durationVar(DEFAULT_SESSION_TTL_MS),
  GITFAAS_REDIS_URL: redisUrlVar,
  GITFAAS_QUEUE_PREFIX: queuePrefixVar,
};

export const DASHBOARD_SECRET_VARS = ['GITFAAS_DASHBOARD_SESSION_SECRET'] as const;

type Env = { [K in keyof typeof dashboardEnv]?: z.output<(typeof dashboardEnv)[K]> };

export interface DashboardSettings {
  /** Signs session cookies; undefined: derived from the admin password (sessionSecretFor). */
  sessionSecret?: string;
  sessionTtlMs: number;
  redisUrl: string;
  queuePrefix: string;
}

export function dashboardSettings(env: Env): DashboardSettings {
  return {
    sessionSecret: env.GITFAAS_DASHBOARD_SESSION_SECRET,
    sessionTtlMs: env.GITFAAS_DASHBOARD_SESSION_TTL ?? DEFAULT_SESSION_TTL_MS,
    redisUrl: env.GITFAAS_REDIS_URL ?? 'redis://127.0.0.1:6379',
    queuePrefix: env.GITFAAS_QUEUE_PREFIX ?? 'gitfaas',
  };
}

/**
 * The key that signs sessions. Without GITFAAS_DASHBOARD_SESSION_SECRET it is derived from
 * the admin password, so every gateway of one install agrees and a new password ends
 * every session.
 */
export function sessionSecretFor(settings: DashboardSettings, adminPassword: string): string {
  return settings.sessionSecret ?? createHmac('sha256', adminPassword).update('gitfaas dashboard sessions').digest('base64url');
}
