// The dashboard's settings, read from the environment by the wiring that mounts the
// dashboard on the gateway (services/gateway-with-dashboard.ts), beside the gateway's own config:
// the session secret and lifetime, OAuth sign-in, the customer allowlist, and the Redis
// holding the build history and build logs.
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { ConfigError, durationVar, parseEnv, redisUrlVar, urlVar, withSecrets, type Env as ProcessEnv } from '../../shared/config.js';
import { queuePrefixVar } from '../../shared/queue-prefix.js';

export const DEFAULT_SESSION_TTL_MS = 12 * 3600 * 1000;

/** Zod shape keyed by variable name; the secrets (DASHBOARD_SECRET_VARS) are read with withSecrets (also _FILE). */
const dashboardEnv = {
  GITFAAS_DASHBOARD_SESSION_SECRET: z.string().min(32, 'expected at least 32 characters (e.g. head -c 32 /dev/urandom | base64)').optional(),
  GITFAAS_DASHBOARD_SESSION_TTL: durationVar(DEFAULT_SESSION_TTL_MS),
  GITFAAS_REDIS_URL: redisUrlVar,
  GITFAAS_QUEUE_PREFIX: queuePrefixVar,
  /** Where browsers reach the gateway; OAuth callbacks are <this>/ui/oauth/<host>/callback. */
  GITFAAS_DASHBOARD_PUBLIC_URL: urlVar().optional(),
  GITHUB_OAUTH_CLIENT_ID: z.string().optional(),
  GITHUB_OAUTH_CLIENT_SECRET: z.string().optional(),
  /** GitHub's web address (authorize and token endpoints); GitHub Enterprise: https://HOST. */
  GITHUB_OAUTH_URL: urlVar('https://github.com'),
  GITHUB_API_URL: urlVar('https://api.github.com'),
  GITLAB_OAUTH_CLIENT_ID: z.string().optional(),
  GITLAB_OAUTH_CLIENT_SECRET: z.string().optional(),
  GITLAB_URL: urlVar('https://gitlab.com'),
  GITFAAS_CUSTOMERS: z.string().optional(),
  GITFAAS_CUSTOMERS_FILE: z.string().optional(),
};

const DASHBOARD_SECRET_VARS = ['GITFAAS_DASHBOARD_SESSION_SECRET', 'GITHUB_OAUTH_CLIENT_SECRET', 'GITLAB_OAUTH_CLIENT_SECRET'] as const;

/** One OAuth sign-in (GitHub or GitLab): its client and where its endpoints live. */
export interface OAuthClient {
  clientId: string;
  clientSecret: string;
  /** Web base (authorize, token). */
  webUrl: string;
  /** REST API base (GET /user). */
  apiUrl: string;
}

type Env = { [K in keyof typeof dashboardEnv]?: z.output<(typeof dashboardEnv)[K]> };

const schema = z.object(dashboardEnv).transform((env) => dashboardSettings(env));

/** The dashboard's settings from the environment; a bad value throws a ConfigError naming its variable. */
export function loadDashboardConfig(env: ProcessEnv = process.env): DashboardSettings {
  return parseEnv(schema, withSecrets(env, DASHBOARD_SECRET_VARS));
}

export interface DashboardSettings {
  /** Signs session cookies; undefined: derived from the admin password (sessionSecretFor). */
  sessionSecret?: string;
  sessionTtlMs: number;
  redisUrl: string;
  queuePrefix: string;
  publicUrl?: string;
  github?: OAuthClient;
  gitlab?: OAuthClient;
  /** The customer allowlist, as the webhooks service reads it. */
  customers: { kind: 'anyone' } | { kind: 'list'; logins: string } | { kind: 'file'; path: string };
}

const trim = (url: string) => url.replace(/\/+$/, '');

function oauthClient(name: 'GITHUB' | 'GITLAB', id: string | undefined, secret: string | undefined, webUrl: string, apiUrl: string): OAuthClient | undefined {
  if (!id && !secret) return undefined;
  if (!id || !secret) {
    throw new ConfigError(`${name}_OAUTH_CLIENT_ID and ${name}_OAUTH_CLIENT_SECRET (or _FILE) must be set together for the dashboard's ${name === 'GITHUB' ? 'GitHub' : 'GitLab'} sign-in`);
  }
  return { clientId: id, clientSecret: secret, webUrl: trim(webUrl), apiUrl: trim(apiUrl) };
}

function dashboardSettings(env: Env): DashboardSettings {
  return {
    sessionSecret: env.GITFAAS_DASHBOARD_SESSION_SECRET,
    sessionTtlMs: env.GITFAAS_DASHBOARD_SESSION_TTL ?? DEFAULT_SESSION_TTL_MS,
    redisUrl: env.GITFAAS_REDIS_URL ?? 'redis://127.0.0.1:6379',
    queuePrefix: env.GITFAAS_QUEUE_PREFIX ?? 'gitfaas',
    publicUrl: env.GITFAAS_DASHBOARD_PUBLIC_URL && trim(env.GITFAAS_DASHBOARD_PUBLIC_URL),
    github: oauthClient('GITHUB', env.GITHUB_OAUTH_CLIENT_ID, env.GITHUB_OAUTH_CLIENT_SECRET, env.GITHUB_OAUTH_URL ?? 'https://github.com', env.GITHUB_API_URL ?? 'https://api.github.com'),
    gitlab: oauthClient('GITLAB', env.GITLAB_OAUTH_CLIENT_ID, env.GITLAB_OAUTH_CLIENT_SECRET, env.GITLAB_URL ?? 'https://gitlab.com', `${trim(env.GITLAB_URL ?? 'https://gitlab.com')}/api/v4`),
    customers: customersOf(env),
  };
}

function customersOf(env: Env): DashboardSettings['customers'] {
  if (env.GITFAAS_CUSTOMERS !== undefined && env.GITFAAS_CUSTOMERS_FILE !== undefined) {
    throw new ConfigError('GITFAAS_CUSTOMERS and GITFAAS_CUSTOMERS_FILE are both set: set only one of them');
  }
  if (env.GITFAAS_CUSTOMERS_FILE !== undefined) return { kind: 'file', path: env.GITFAAS_CUSTOMERS_FILE };
  if (env.GITFAAS_CUSTOMERS !== undefined) return { kind: 'list', logins: env.GITFAAS_CUSTOMERS };
  return { kind: 'anyone' };
}

/**
 * The key that signs sessions. Without GITFAAS_DASHBOARD_SESSION_SECRET it is derived from
 * the admin password, so every gateway of one install agrees and a new password ends
 * every session.
 */
export function sessionSecretFor(settings: DashboardSettings, adminPassword: string): string {
  return settings.sessionSecret ?? createHmac('sha256', adminPassword).update('gitfaas dashboard sessions').digest('base64url');
}
