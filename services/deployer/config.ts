// Deployer configuration, read once from the environment (docs/configuration.md, "Deployer").
import { optionalPortVar } from '../../shared/health-listener.js';
import path from 'node:path';
import { z } from 'zod';
import { adminCredentialsEnv, adminPasswordFile } from '../../shared/admin-credentials.js';
import { bareLabelsVar } from '../../shared/owner-labels.js';
import { DEFAULT_BUILD_HISTORY_TTL_MS } from '../../shared/build-history.js';
import { DEFAULT_BUILD_LOG_TTL_MS } from '../../shared/build-logs.js';
import { DEFAULT_DEPLOY_HISTORY_COUNT } from '../../shared/deploy-history.js';
import {
  durationMsVar,
  durationVar,
  logLevelVar,
  logFormatVar,
  parseEnv,
  positiveIntVar,
  redisUrlVar,
  stateDirVar,
  urlVar,
  withSecrets,
  type Env,
  bindVar,
} from '../../shared/config.js';
import { GITHUB_SECRET_VARS, githubEnvShape, githubSettings } from '../../shared/github.js';
import { GITLAB_SECRET_VARS, gitlabEnvShape, gitlabSettings } from '../../shared/gitlab.js';
import { isDnsLabel } from '../../shared/names.js';
import { quotaEnvShape, quotasFromEnv } from '../../shared/tenancy.js';
import { previewEnvShape, previewSettings } from './preview-config.js';

const schema = z
  .object({
    GITFAAS_LOG_LEVEL: logLevelVar,
    GITFAAS_LOG_FORMAT: logFormatVar,
    GITFAAS_STATE_DIR: stateDirVar,
    GITFAAS_REDIS_URL: redisUrlVar,
    GITFAAS_QUEUE_PREFIX: z.string().min(1, 'expected a non-empty prefix').default('gitfaas'),
    GITFAAS_BIND: bindVar,
    GITFAAS_DEPLOYER_HEALTH_PORT: optionalPortVar,
    GITFAAS_DEPLOYER_CONCURRENCY: positiveIntVar(4),
    GITFAAS_GATEWAY_URL: urlVar('http://127.0.0.1:8080'),
    GITFAAS_PUBLIC_URL: urlVar().optional(),
    ...adminCredentialsEnv,
    GITFAAS_DEPLOY_READY_TIMEOUT_MS: durationMsVar(120_000),
    GITFAAS_BUILD_LOG_TTL: durationVar(DEFAULT_BUILD_LOG_TTL_MS),
    GITFAAS_BUILD_HISTORY_TTL: durationVar(DEFAULT_BUILD_HISTORY_TTL_MS),
    GITFAAS_DEPLOY_HISTORY_COUNT: positiveIntVar(DEFAULT_DEPLOY_HISTORY_COUNT),
    GITFAAS_DOMAIN: z
      .string()
      .optional()
      .refine((v) => !v || v.split('.').every(isDnsLabel), {
        message: 'expected a domain name such as fn.example.com (lower-case, no scheme, no port)',
      }),
    GITFAAS_BARE_LABELS: bareLabelsVar,
    GITFAAS_DOMAIN_SCHEME: z.enum(['https', 'http'], { message: 'expected https or http' }).default('https'),
    GITFAAS_DOMAIN_PORT: z.coerce.number().int().min(1).max(65535, 'expected a port from 1 to 65535').optional(),
    ...githubEnvShape,
    ...gitlabEnvShape,
    ...quotaEnvShape,
    ...previewEnvShape,
  })
  .transform((env) => {
    const gatewayUrl = env.GITFAAS_GATEWAY_URL.replace(/\/+$/, '');
    return {
      logLevel: env.GITFAAS_LOG_LEVEL,
      logFormat: env.GITFAAS_LOG_FORMAT,
      stateDir: env.GITFAAS_STATE_DIR,
      redisUrl: env.GITFAAS_REDIS_URL,
      queuePrefix: env.GITFAAS_QUEUE_PREFIX,
      /** The /healthz and /metrics listener (shared/health-listener.ts); none when the port is unset. */
      health: { bind: env.GITFAAS_BIND, port: env.GITFAAS_DEPLOYER_HEALTH_PORT },
      concurrency: env.GITFAAS_DEPLOYER_CONCURRENCY,
      gatewayUrl,
      /** Base of the function URLs put on success statuses, without GITFAAS_DOMAIN. */
      publicUrl: (env.GITFAAS_PUBLIC_URL ?? gatewayUrl).replace(/\/+$/, ''),
      /** With GITFAAS_DOMAIN, statuses link <scheme>://<owner label>.<domain>[:port]/<function>. */
      domain: env.GITFAAS_DOMAIN
        ? { name: env.GITFAAS_DOMAIN, scheme: env.GITFAAS_DOMAIN_SCHEME, port: env.GITFAAS_DOMAIN_PORT, bareLabels: env.GITFAAS_BARE_LABELS }
        : undefined,
      quotas: quotasFromEnv(env),
      /** Pull/merge request previews (preview-config.ts). */
      previews: previewSettings(env),
      adminUser: env.GITFAAS_ADMIN_USER,
      /** Given, or read from the gateway's generated file when first needed. */
      adminPassword: env.GITFAAS_ADMIN_PASSWORD,
      adminPasswordFile: adminPasswordFile(env.GITFAAS_STATE_DIR),
      readyTimeoutMs: env.GITFAAS_DEPLOY_READY_TIMEOUT_MS,
      /** The deployer writes the deploy section of the build log and ends it. */
      buildLogTtlMs: env.GITFAAS_BUILD_LOG_TTL,
      buildHistoryTtlMs: env.GITFAAS_BUILD_HISTORY_TTL,
      /** Deploys kept per repository for rollbacks (shared/deploy-history.ts). */
      deployHistoryCount: env.GITFAAS_DEPLOY_HISTORY_COUNT,
      github: githubSettings(env),
      gitlab: gitlabSettings(env),
    };
  });

export type DeployerConfig = z.output<typeof schema>;

export function loadDeployerConfig(env: Env = process.env): DeployerConfig {
  return parseEnv(schema, withSecrets(env, ['GITFAAS_ADMIN_PASSWORD', ...GITHUB_SECRET_VARS, ...GITLAB_SECRET_VARS]));
}
