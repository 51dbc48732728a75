// Queue-worker configuration, read once from the environment (see docs/configuration.md,
// "Async / queue-worker"). The stream variables are shared with the gateway
// (shared/async-config.ts): both must name the same streams.
import { optionalPortVar } from '../../shared/health-listener.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { adminCredentialsEnv, adminPassword } from '../../shared/admin-credentials.js';
import {
  durationMsVar,
  logLevelVar,
  logFormatVar,
  parseEnv,
  positiveIntVar,
  stateDirVar,
  urlVar,
  withSecrets,
  type Env,
  bindVar,
} from '../../shared/config.js';
import { asyncStreamEnv, asyncStreamProblems, asyncStreamSettings } from '../../shared/async-config.js';
import { callbackPolicy, callbackPolicyEnv, endpointOf } from '../../shared/callback-policy.js';

const consumerNameVar = z
  .string()
  .default('queue-worker')
  .refine((v) => /^[A-Za-z0-9_-]{1,48}$/.test(v), { message: 'expected 1-48 letters, digits, "_" or "-"' });

const statusCodesVar = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      const codes = value.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
      if (codes.length === 0 || codes.some((c) => !Number.isInteger(c) || c < 100 || c > 599)) {
        ctx.addIssue({ code: 'custom', message: 'expected a comma-separated list of HTTP status codes, e.g. 408,429,500,502,503,504' });
        return z.NEVER;
      }
      return codes;
    });

const schema = z
  .object({
    ...asyncStreamEnv,
    ...callbackPolicyEnv,
    GITFAAS_LOG_LEVEL: logLevelVar,
    GITFAAS_LOG_FORMAT: logFormatVar,
    GITFAAS_STATE_DIR: stateDirVar,
    GITFAAS_GATEWAY_URL: urlVar('http://127.0.0.1:8080'),
    ...adminCredentialsEnv,
    GITFAAS_ASYNC_CONSUMER: consumerNameVar,
    GITFAAS_QUEUE_WORKER_MAX_INFLIGHT: positiveIntVar(50),
    GITFAAS_QUEUE_WORKER_MAX_ACK_PENDING: positiveIntVar(10_000),
    GITFAAS_QUEUE_WORKER_ACK_WAIT_MS: durationMsVar(30_000),
    GITFAAS_QUEUE_WORKER_INVOKE_TIMEOUT_MS: durationMsVar(300_000),
    GITFAAS_QUEUE_WORKER_RETRY_ATTEMPTS: positiveIntVar(5),
    GITFAAS_QUEUE_WORKER_RETRY_CODES: statusCodesVar('408,429,500,502,503,504'),
    GITFAAS_QUEUE_WORKER_RETRY_MIN_WAIT_MS: durationMsVar(500),
    GITFAAS_QUEUE_WORKER_RETRY_MAX_WAIT_MS: durationMsVar(30_000),
    GITFAAS_QUEUE_WORKER_CALLBACK_ATTEMPTS: positiveIntVar(5),
    GITFAAS_QUEUE_WORKER_CALLBACK_TIMEOUT_MS: durationMsVar(10_000),
    GITFAAS_QUEUE_WORKER_CALLBACK_MIN_WAIT_MS: durationMsVar(1_000),
    GITFAAS_QUEUE_WORKER_CALLBACK_MAX_WAIT_MS: durationMsVar(30_000),
    GITFAAS_QUEUE_WORKER_ANNOTATION_CACHE_MS: durationMsVar(5_000),
    GITFAAS_BIND: bindVar,
    GITFAAS_QUEUE_WORKER_HEALTH_PORT: optionalPortVar,
  })
  .superRefine((env, ctx) => {
    for (const p of asyncStreamProblems(env)) ctx.addIssue({ code: 'custom', path: [p.path], message: p.message });
    if (env.GITFAAS_QUEUE_WORKER_RETRY_MIN_WAIT_MS > env.GITFAAS_QUEUE_WORKER_RETRY_MAX_WAIT_MS) {
      ctx.addIssue({ code: 'custom', path: ['GITFAAS_QUEUE_WORKER_RETRY_MIN_WAIT_MS'], message: 'must not exceed GITFAAS_QUEUE_WORKER_RETRY_MAX_WAIT_MS' });
    }
    if (env.GITFAAS_QUEUE_WORKER_ACK_WAIT_MS < 3_000) {
      ctx.addIssue({ code: 'custom', path: ['GITFAAS_QUEUE_WORKER_ACK_WAIT_MS'], message: 'expected at least 3000 (the worker signals progress every third of it)' });
    }
  })
  .transform((env) => ({
    logLevel: env.GITFAAS_LOG_LEVEL,
    logFormat: env.GITFAAS_LOG_FORMAT,
    streams: asyncStreamSettings(env),
    gatewayUrl: env.GITFAAS_GATEWAY_URL.replace(/\/+$/, ''),
    adminUser: env.GITFAAS_ADMIN_USER,
    adminPassword: adminPassword(env.GITFAAS_ADMIN_PASSWORD, env.GITFAAS_STATE_DIR, 'the worker reads function annotations through /system'),
    consumer: env.GITFAAS_ASYNC_CONSUMER,
    maxInflight: env.GITFAAS_QUEUE_WORKER_MAX_INFLIGHT,
    maxAckPending: env.GITFAAS_QUEUE_WORKER_MAX_ACK_PENDING,
    ackWaitMs: env.GITFAAS_QUEUE_WORKER_ACK_WAIT_MS,
    invokeTimeoutMs: env.GITFAAS_QUEUE_WORKER_INVOKE_TIMEOUT_MS,
    retry: {
      attempts: env.GITFAAS_QUEUE_WORKER_RETRY_ATTEMPTS,
      codes: env.GITFAAS_QUEUE_WORKER_RETRY_CODES,
      minWaitMs: env.GITFAAS_QUEUE_WORKER_RETRY_MIN_WAIT_MS,
      maxWaitMs: env.GITFAAS_QUEUE_WORKER_RETRY_MAX_WAIT_MS,
    },
    callback: {
      attempts: env.GITFAAS_QUEUE_WORKER_CALLBACK_ATTEMPTS,
      timeoutMs: env.GITFAAS_QUEUE_WORKER_CALLBACK_TIMEOUT_MS,
      minWaitMs: env.GITFAAS_QUEUE_WORKER_CALLBACK_MIN_WAIT_MS,
      maxWaitMs: env.GITFAAS_QUEUE_WORKER_CALLBACK_MAX_WAIT_MS,
      /** Where callbacks may not go (shared/callback-policy.ts): platform endpoints, the gateway's /system, link-local. */
      policy: callbackPolicy(env, endpointOf(env.GITFAAS_GATEWAY_URL, 80), asyncStreamSettings(env).natsServers),
    },
    annotationCacheMs: env.GITFAAS_QUEUE_WORKER_ANNOTATION_CACHE_MS,
    /** The /healthz and /metrics listener (shared/health-listener.ts); none when the port is unset. */
    health: { bind: env.GITFAAS_BIND, port: env.GITFAAS_QUEUE_WORKER_HEALTH_PORT },
  }));

export type QueueWorkerConfig = z.output<typeof schema>;

export function loadQueueWorkerConfig(env: Env = process.env): QueueWorkerConfig {
  return parseEnv(schema, withSecrets(env, ['GITFAAS_ADMIN_PASSWORD']));
}
