// Webhook receiver configuration, read once from the environment (docs/configuration.md).
import { z } from 'zod';
import path from 'node:path';
import { DEFAULT_BUILD_HISTORY_TTL_MS } from '../../shared/build-history.js';
import { ConfigError, bindVar, booleanVar, durationVar, logFormatVar, logLevelVar, parseEnv, portVar, redisUrlVar, stateDirVar, urlVar, withSecrets, type Env } from '../../shared/config.js';
import { gitHostsVar, gitOrigins } from '../../shared/git-origins.js';
import { GITHUB_SECRET_VARS, githubEnvShape, githubSettings } from '../../shared/github.js';
import { GITLAB_SECRET_VARS, gitlabEnvShape, gitlabSettings } from '../../shared/gitlab.js';

/** Prefix of every BullMQ queue and Redis key gitfaas owns; tests set their own. */
export const queuePrefixVar = z
  .string()
  .default('gitfaas')
  .refine((v) => /^[A-Za-z0-9_-]+$/.test(v), { message: 'expected letters, digits, "_" or "-"' });

/** How often the reconciler compares each known repository's head with what was built. */
export const DEFAULT_RECONCILE_INTERVAL_MS = 5 * 60 * 1000;

const schema = z
  .object({
    GITFAAS_BIND: bindVar,
    GITFAAS_WEBHOOKS_PORT: portVar(8081),
    GITFAAS_LOG_LEVEL: logLevelVar,
    GITFAAS_LOG_FORMAT: logFormatVar,
    GITFAAS_REDIS_URL: redisUrlVar,
    GITFAAS_QUEUE_PREFIX: queuePrefixVar,
    GITFAAS_STATE_DIR: stateDirVar,
    GITFAAS_WEBHOOKS_PUBLIC_URL: urlVar().optional(),
    GITFAAS_BUILD_HISTORY_TTL: durationVar(DEFAULT_BUILD_HISTORY_TTL_MS),
    GITFAAS_ADMIN_USER: z.string().min(1, 'expected a user name').default('admin'),
    GITFAAS_ADMIN_PASSWORD: z.string().optional(),
    GITHUB_WEBHOOK_SECRET: z.string().optional(),
    GITHUB_WEBHOOK_SECRET_PREVIOUS: z.string().optional(),
    GITLAB_WEBHOOK_SECRET: z.string().optional(),
    GITLAB_WEBHOOK_SECRET_PREVIOUS: z.string().optional(),
    GITFAAS_CUSTOMERS: z.string().optional(),
    GITFAAS_CUSTOMERS_FILE: z.string().optional(),
    GITFAAS_GIT_HOSTS: gitHostsVar,
    GITFAAS_RECONCILE: booleanVar(true),
    GITFAAS_RECONCILE_INTERVAL: durationVar(DEFAULT_RECONCILE_INTERVAL_MS),
    ...githubEnvShape,
    ...gitlabEnvShape,
  })
  .transform((env) => {
    if (env.GITHUB_WEBHOOK_SECRET_PREVIOUS && !env.GITHUB_WEBHOOK_SECRET) {
      throw new ConfigError('GITHUB_WEBHOOK_SECRET_PREVIOUS is set without GITHUB_WEBHOOK_SECRET: set the current secret too');
    }
    if (env.GITLAB_WEBHOOK_SECRET_PREVIOUS && !env.GITLAB_WEBHOOK_SECRET) {
      throw new ConfigError('GITLAB_WEBHOOK_SECRET_PREVIOUS is set without GITLAB_WEBHOOK_SECRET: set the current secret too');
    }
    if (env.GITFAAS_CUSTOMERS !== undefined && env.GITFAAS_CUSTOMERS_FILE !== undefined) {
      throw new ConfigError('GITFAAS_CUSTOMERS and GITFAAS_CUSTOMERS_FILE are both set: set only one of them');
    }
    return {
      bind: env.GITFAAS_BIND,
      port: env.GITFAAS_WEBHOOKS_PORT,
      logLevel: env.GITFAAS_LOG_LEVEL,
      logFormat: env.GITFAAS_LOG_FORMAT,
      redisUrl: env.GITFAAS_REDIS_URL,
      queuePrefix: env.GITFAAS_QUEUE_PREFIX,
      /** Build log URLs (named in the 202 and the build history) start with it; by default the receiver's own URL. */
      publicUrl: env.GITFAAS_WEBHOOKS_PUBLIC_URL?.replace(/\/+$/, ''),
      buildHistoryTtlMs: env.GITFAAS_BUILD_HISTORY_TTL,
      /** The admin builds API (/system/builds) takes the gateway's admin credentials. */
      adminUser: env.GITFAAS_ADMIN_USER,
      adminPassword: env.GITFAAS_ADMIN_PASSWORD,
      adminPasswordFile: path.join(env.GITFAAS_STATE_DIR, 'admin-password'),
      /**
       * Current secret first; the previous one is accepted while GitHub is switched over.
       * Empty: GitHub is not configured and its route answers 503 (never unverified).
       */
      webhookSecrets: [env.GITHUB_WEBHOOK_SECRET, env.GITHUB_WEBHOOK_SECRET_PREVIOUS].filter((s): s is string => !!s),
      /** As webhookSecrets, for GitLab's X-Gitlab-Token. */
      gitlabWebhookSecrets: [env.GITLAB_WEBHOOK_SECRET, env.GITLAB_WEBHOOK_SECRET_PREVIOUS].filter((s): s is string => !!s),
      customers:
        env.GITFAAS_CUSTOMERS_FILE !== undefined
          ? ({ kind: 'file', path: env.GITFAAS_CUSTOMERS_FILE } as const)
          : env.GITFAAS_CUSTOMERS !== undefined
            ? ({ kind: 'list', logins: env.GITFAAS_CUSTOMERS } as const)
            : ({ kind: 'anyone' } as const),
      github: githubSettings(env),
      gitlab: gitlabSettings(env),
      /** The reconciler (reconciler.ts): on (GITFAAS_RECONCILE), and its period. */
      reconcile: { enabled: env.GITFAAS_RECONCILE, intervalMs: env.GITFAAS_RECONCILE_INTERVAL },
      /** Where clone URLs may point, per host, and so where clone credentials may go (shared/git-origins.ts). */
      gitOrigins: gitOrigins({ githubUrl: env.GITHUB_URL, gitlabUrl: env.GITLAB_URL, extra: env.GITFAAS_GIT_HOSTS }),
    };
  });

export type WebhooksConfig = z.output<typeof schema>;

export function loadWebhooksConfig(env: Env = process.env): WebhooksConfig {
  return parseEnv(schema, withSecrets(env, [
      'GITFAAS_ADMIN_PASSWORD',
      'GITHUB_WEBHOOK_SECRET',
      'GITHUB_WEBHOOK_SECRET_PREVIOUS',
      'GITLAB_WEBHOOK_SECRET_PREVIOUS',
      ...GITHUB_SECRET_VARS,
      ...GITLAB_SECRET_VARS,
    ]));
}
