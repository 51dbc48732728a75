// Shared pieces for every service's config schema. Each service keeps its own zod
// schema in its folder (services/<name>/config.ts), keyed by the environment
// variable names, so that every error names the variable the operator must fix.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';

export type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Reads a secret given as NAME or as NAME_FILE (a path whose contents, trimmed, are the
 * secret). Both set is an error: the operator could not tell which one wins.
 */
export function readSecret(env: Env, name: string): string | undefined {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  if (direct && file) {
    throw new ConfigError(`${name} and ${name}_FILE are both set: set only one of them`);
  }
  if (file) {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw new ConfigError(
        `${name}_FILE=${file} cannot be read (${(err as Error).message}): point ${name}_FILE at a readable file`,
        { cause: err },
      );
    }
  }
  return direct === '' ? undefined : direct;
}

/** Returns env with every NAME in `names` replaced by its value resolved from NAME or NAME_FILE. */
export function withSecrets(env: Env, names: readonly string[]): Env {
  const out: Env = { ...env };
  for (const name of names) out[name] = readSecret(env, name);
  return out;
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off', '']);

/** An explicit boolean: "false" is false (z.coerce.boolean would make it true). */
export const booleanVar = (fallback: boolean) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return fallback;
      const v = value.trim().toLowerCase();
      if (TRUE.has(v)) return true;
      if (FALSE.has(v)) return false;
      ctx.addIssue({ code: 'custom', message: `expected true or false, got "${value}"` });
      return z.NEVER;
    });

export const portVar = (fallback: number) =>
  z.coerce
    .number({ message: 'expected a port number' })
    .int('expected a whole port number')
    .min(0, 'expected a port from 0 to 65535')
    .max(65535, 'expected a port from 0 to 65535')
    .default(fallback);

export const bindVar = z
  .string()
  .default('127.0.0.1')
  .refine((v) => isIP(v) !== 0, { message: 'expected an IP address such as 127.0.0.1' });

export const urlVar = (fallback?: string) => {
  const base = z.url({ protocol: /^https?$/, message: 'expected an absolute http(s) URL' });
  return fallback === undefined ? base : base.default(fallback);
};

export const positiveIntVar = (fallback: number) =>
  z.coerce.number({ message: 'expected a number' }).int('expected a whole number').positive('expected a number above 0').default(fallback);

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration: milliseconds as a bare number, or a number with a unit (500ms, 30s, 10m, 2h, 7d). */
export const durationVar = (fallbackMs: number) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return fallbackMs;
      const match = /^(\d+)(ms|s|m|h|d)?$/.exec(value.trim());
      const ms = match ? Number(match[1]) * UNIT_MS[match[2] ?? 'ms'] : NaN;
      if (!Number.isSafeInteger(ms) || ms <= 0) {
        ctx.addIssue({ code: 'custom', message: 'expected a duration above 0: milliseconds, or a number with ms, s, m, h or d (e.g. 10m)' });
        return z.NEVER;
      }
      return ms;
    });

/** Durations are given in milliseconds in the environment. */
export const durationMsVar = positiveIntVar;

export const logLevelVar = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');

/** json for machines (the default); pretty for a person at a terminal (needs pino-pretty). */
export const logFormatVar = z.enum(['json', 'pretty'], { message: 'expected json or pretty' }).default('json');

/** The state directory holds generated secrets, logs and stores; absolute once loaded. */
export const stateDirVar = z
  .string()
  .default('.state')
  .transform((v) => path.resolve(v));

export const redisUrlVar = z.string().default('redis://127.0.0.1:6379').refine((v) => /^rediss?:\/\//.test(v), {
  message: 'expected a redis:// or rediss:// URL',
});

export const natsUrlVar = z.string().default('nats://127.0.0.1:4222');

/**
 * Parses env against a schema whose keys are variable names and throws one ConfigError
 * listing every problem, each naming its variable.
 */
export function parseEnv<T extends z.ZodType>(schema: T, env: Env): z.output<T> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const variable = issue.path.join('.') || '(configuration)';
    const got = typeof issue.path[0] === 'string' ? env[issue.path[0]] : undefined;
    const shown = got === undefined || /PASSWORD|SECRET|TOKEN|KEY/i.test(variable) ? '' : ` (got "${got}")`;
    return `  ${variable}: ${issue.message}${shown}`;
  });
  throw new ConfigError(`invalid configuration; fix these environment variables:\n${lines.join('\n')}`);
}

const SECRET_KEY = /password|secret|token|privatekey|private_key|credential/i;

/** A copy of a config object safe to log: values under secret-looking keys are replaced. */
export function redactConfig<T>(config: T): T {
  return JSON.parse(
    JSON.stringify(config, (key, value) => (key && SECRET_KEY.test(key) && value ? '[redacted]' : value)),
  ) as T;
}
