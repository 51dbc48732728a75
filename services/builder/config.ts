// Builder configuration, read once from the environment (see docs/configuration.md, "Builder").
import { optionalPortVar } from '../../shared/health-listener.js';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import {
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
import { DEFAULT_BUILD_HISTORY_TTL_MS } from '../../shared/build-history.js';
import { DEFAULT_BUILD_LOG_TTL_MS } from '../../shared/build-logs.js';
import { gitHostsVar, gitOrigins } from '../../shared/git-origins.js';
import { GITHUB_SECRET_VARS, githubEnvShape, githubSettings } from '../../shared/github.js';
import { GITLAB_SECRET_VARS, gitlabEnvShape, gitlabSettings } from '../../shared/gitlab.js';
import { quotaEnvShape, quotasFromEnv } from '../../shared/tenancy.js';
import { parseImageRef } from './image-source.js';

/** host[:port] of a registry, without scheme or path. */
const registryVar = z
  .string()
  .default('127.0.0.1:5000')
  .refine((v) => /^[A-Za-z0-9.-]+(:\d+)?$/.test(v), { message: 'expected a registry host[:port] without scheme, e.g. 127.0.0.1:5000' });

const imageVar = (fallback: string) =>
  z.string().default(fallback).refine((v) => /^[^\s]+$/.test(v), { message: 'expected an image reference such as node:20-bookworm-slim' });

/** Comma-separated image references, `REPO` (any tag), `REPO:TAG` or `PREFIX/*`. */
const imageListVar = z
  .string()
  .default('')
  .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
  .refine((list) => list.every((e) => parseImageRef(e.endsWith('/*') ? e.slice(0, -2) : e)), {
    message: 'expected comma-separated image references such as 127.0.0.1:5000/gitfaas/node:20, 127.0.0.1:5000/base/* or node (any tag)',
  });

const schema = z
  .object({
    GITFAAS_LOG_LEVEL: logLevelVar,
    GITFAAS_LOG_FORMAT: logFormatVar,
    GITFAAS_STATE_DIR: stateDirVar,
    GITFAAS_REDIS_URL: redisUrlVar,
    GITFAAS_QUEUE_PREFIX: z.string().min(1, 'expected a non-empty prefix').default('gitfaas'),
    GITFAAS_BIND: bindVar,
    GITFAAS_BUILDER_HEALTH_PORT: optionalPortVar,
    GITFAAS_BUILDER_CONCURRENCY: positiveIntVar(2),
    GITFAAS_BUILD_PARALLELISM: positiveIntVar(4),
    GITFAAS_BUILD_TIMEOUT: durationVar(10 * 60_000),
    GITFAAS_REGISTRY: registryVar,
    GITFAAS_BUILDKIT_ADDR: z
      .string()
      .optional()
      .refine((v) => v === undefined || v === '' || /^(tcp|unix|docker-container|kube-pod|podman-container):\/\/.+/.test(v), {
        message: 'expected a buildkitd address such as tcp://buildkitd:1234 or unix:///run/buildkit/buildkitd.sock',
      }),
    GITFAAS_BUILDCTL: z.string().default('buildctl'),
    GITFAAS_TEMPLATE_NODE_IMAGE: imageVar('node:20-bookworm-slim'),
    GITFAAS_TEMPLATE_PYTHON_IMAGE: imageVar('python:3.12-slim-bookworm'),
    GITFAAS_BUILD_ALLOWED_IMAGES: imageListVar,
    GITFAAS_MAX_STACK_BYTES: positiveIntVar(1024 * 1024),
    GITFAAS_MAX_ENV_ENTRIES: positiveIntVar(1000),
    GITFAAS_MAX_ENV_BYTES: positiveIntVar(256 * 1024),
    GITFAAS_MAX_HANDLER_FILES: positiveIntVar(20_000),
    GITFAAS_MAX_HANDLER_BYTES: positiveIntVar(256 * 1024 * 1024),
    GITFAAS_STACK_PARSE_TIMEOUT: durationVar(20_000),
    GITFAAS_BUILD_LOG_TTL: durationVar(DEFAULT_BUILD_LOG_TTL_MS),
    GITFAAS_BUILD_HISTORY_TTL: durationVar(DEFAULT_BUILD_HISTORY_TTL_MS),
    GITFAAS_WEBHOOKS_PUBLIC_URL: urlVar('http://127.0.0.1:8081'),
    GITFAAS_DOCKER_SOCKET: z.string().default('/var/run/docker.sock'),
    GITFAAS_NPM_REGISTRY: urlVar().optional(),
    GITFAAS_NPM_CA_FILE: z
      .string()
      .optional()
      .refine((v) => v === undefined || v === '' || existsSync(v), { message: 'no such file: point it at a PEM bundle of the registry\'s CA' }),
    GITFAAS_NPM: z.string().default('npm'),
    GITFAAS_NPM_FETCH_TIMEOUT: durationVar(20_000),
    GITFAAS_PIP_INDEX_URL: urlVar().optional(),
    GITFAAS_GIT_HOSTS: gitHostsVar,
    ...githubEnvShape,
    ...gitlabEnvShape,
    ...quotaEnvShape,
  })
  .transform((env) => ({
    logLevel: env.GITFAAS_LOG_LEVEL,
    logFormat: env.GITFAAS_LOG_FORMAT,
    stateDir: env.GITFAAS_STATE_DIR,
    redisUrl: env.GITFAAS_REDIS_URL,
    queuePrefix: env.GITFAAS_QUEUE_PREFIX,
    /** The /healthz and /metrics listener (shared/health-listener.ts); none when the port is unset. */
    health: { bind: env.GITFAAS_BIND, port: env.GITFAAS_BUILDER_HEALTH_PORT },
    concurrency: env.GITFAAS_BUILDER_CONCURRENCY,
    parallelism: env.GITFAAS_BUILD_PARALLELISM,
    buildTimeoutMs: env.GITFAAS_BUILD_TIMEOUT,
    registry: env.GITFAAS_REGISTRY,
    buildkitAddr: env.GITFAAS_BUILDKIT_ADDR || undefined,
    buildctl: env.GITFAAS_BUILDCTL,
    baseImages: { node: env.GITFAAS_TEMPLATE_NODE_IMAGE, python: env.GITFAAS_TEMPLATE_PYTHON_IMAGE },
    allowedImages: env.GITFAAS_BUILD_ALLOWED_IMAGES,
    /** What one commit may make the builder read and parse (services/builder/work-limits.ts). */
    limits: {
      stackBytes: env.GITFAAS_MAX_STACK_BYTES,
      envEntries: env.GITFAAS_MAX_ENV_ENTRIES,
      envBytes: env.GITFAAS_MAX_ENV_BYTES,
      handlerFiles: env.GITFAAS_MAX_HANDLER_FILES,
      handlerBytes: env.GITFAAS_MAX_HANDLER_BYTES,
      parseTimeoutMs: env.GITFAAS_STACK_PARSE_TIMEOUT,
    },
    buildLogTtlMs: env.GITFAAS_BUILD_LOG_TTL,
    buildHistoryTtlMs: env.GITFAAS_BUILD_HISTORY_TTL,
    publicUrl: env.GITFAAS_WEBHOOKS_PUBLIC_URL.replace(/\/+$/, ''),
    dockerSocket: env.GITFAAS_DOCKER_SOCKET,
    /** node20 dependencies are installed by the builder from this registry (services/builder/npm-deps.ts). */
    npm: {
      registry: env.GITFAAS_NPM_REGISTRY?.replace(/\/+$/, ''),
      caFile: env.GITFAAS_NPM_CA_FILE || undefined,
      cacheDir: path.join(env.GITFAAS_STATE_DIR, 'npm'),
      npm: env.GITFAAS_NPM,
      fetchTimeoutMs: env.GITFAAS_NPM_FETCH_TIMEOUT,
    },
    /** Passed to python3-http builds as PIP_INDEX_URL. */
    pipIndexUrl: env.GITFAAS_PIP_INDEX_URL,
    github: githubSettings(env),
    gitlab: gitlabSettings(env),
    /** Where clone URLs may point, per host, and so where clone credentials may go (shared/git-origins.ts). */
    gitOrigins: gitOrigins({ githubUrl: env.GITHUB_URL, gitlabUrl: env.GITLAB_URL, extra: env.GITFAAS_GIT_HOSTS }),
    /** Per-owner limits checked on stack.yml, and the default limits of each function. */
    quotas: quotasFromEnv(env),
  }));

export type BuilderConfig = z.output<typeof schema>;

export function loadBuilderConfig(env: Env = process.env): BuilderConfig {
  return parseEnv(schema, withSecrets(env, [...GITHUB_SECRET_VARS, ...GITLAB_SECRET_VARS]));
}
