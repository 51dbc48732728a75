// Environment variables shared by the gateway (which enqueues) and the queue-worker
// (which consumes): both must agree on the stream, its subjects and its limits, and both
// create or update the streams at start-up. Each service spreads asyncStreamEnv into its
// own zod schema and calls asyncStreamSettings() in its transform.
import { z } from 'zod';
import { natsUrlVar, positiveIntVar } from './config.js';

/** A JetStream stream or consumer name: no spaces, dots, '*', '>' or path separators. */
const jsNameVar = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .refine((v) => /^[A-Za-z0-9_-]{1,64}$/.test(v), {
      message: 'expected 1-64 letters, digits, "_" or "-" (a JetStream name)',
    });

/** A subject prefix such as gitfaas.async: dot-separated tokens, no wildcards. */
const subjectPrefixVar = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .refine((v) => /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(v), {
      message: 'expected dot-separated tokens of letters, digits, "_" or "-" (no wildcards), e.g. gitfaas.async',
    });

/** 0 means "no limit". */
export const nonNegativeIntVar = (fallback: number) =>
  z.coerce.number({ message: 'expected a number' }).int('expected a whole number').min(0, 'expected 0 or more').default(fallback);

export const asyncStreamEnv = {
  GITFAAS_NATS_URL: natsUrlVar,
  GITFAAS_ASYNC_STREAM: jsNameVar('GITFAAS_ASYNC'),
  GITFAAS_ASYNC_SUBJECT: subjectPrefixVar('gitfaas.async'),
  GITFAAS_ASYNC_DEAD_STREAM: jsNameVar('GITFAAS_ASYNC_DEAD'),
  GITFAAS_ASYNC_DEAD_SUBJECT: subjectPrefixVar('gitfaas.dead'),
  GITFAAS_ASYNC_MAX_AGE_MS: nonNegativeIntVar(0),
  GITFAAS_ASYNC_MAX_BYTES: nonNegativeIntVar(1024 * 1024 * 1024),
  GITFAAS_ASYNC_DEAD_MAX_AGE_MS: nonNegativeIntVar(0),
  GITFAAS_ASYNC_DEAD_MAX_BYTES: nonNegativeIntVar(1024 * 1024 * 1024),
  GITFAAS_ASYNC_DUPLICATE_WINDOW_MS: positiveIntVar(120_000),
  GITFAAS_ASYNC_REPLICAS: positiveIntVar(1),
};

type AsyncEnv = { [K in keyof typeof asyncStreamEnv]: z.output<(typeof asyncStreamEnv)[K]> };

export interface AsyncStreamSettings {
  natsServers: string[];
  stream: string;
  /** Prefix of the work stream's subjects: PREFIX.invoke.NS.NAME and PREFIX.callback.NS.NAME. */
  subject: string;
  deadStream: string;
  /** Prefix of the dead-letter subjects: PREFIX.NS.NAME. */
  deadSubject: string;
  maxAgeMs: number;
  maxBytes: number;
  deadMaxAgeMs: number;
  deadMaxBytes: number;
  duplicateWindowMs: number;
  replicas: number;
}

export function asyncStreamSettings(env: AsyncEnv): AsyncStreamSettings {
  return {
    natsServers: env.GITFAAS_NATS_URL.split(',').map((s) => s.trim()).filter(Boolean),
    stream: env.GITFAAS_ASYNC_STREAM,
    subject: env.GITFAAS_ASYNC_SUBJECT,
    deadStream: env.GITFAAS_ASYNC_DEAD_STREAM,
    deadSubject: env.GITFAAS_ASYNC_DEAD_SUBJECT,
    maxAgeMs: env.GITFAAS_ASYNC_MAX_AGE_MS,
    maxBytes: env.GITFAAS_ASYNC_MAX_BYTES,
    deadMaxAgeMs: env.GITFAAS_ASYNC_DEAD_MAX_AGE_MS,
    deadMaxBytes: env.GITFAAS_ASYNC_DEAD_MAX_BYTES,
    duplicateWindowMs: env.GITFAAS_ASYNC_DUPLICATE_WINDOW_MS,
    replicas: env.GITFAAS_ASYNC_REPLICAS,
  };
}

/**
 * Cross-field checks both services run in a superRefine: the two streams' subjects must
 * not overlap (JetStream refuses overlapping streams) and the names must differ.
 */
export function asyncStreamProblems(env: AsyncEnv): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  if (env.GITFAAS_ASYNC_STREAM === env.GITFAAS_ASYNC_DEAD_STREAM) {
    problems.push({ path: 'GITFAAS_ASYNC_DEAD_STREAM', message: 'must differ from GITFAAS_ASYNC_STREAM' });
  }
  const a = env.GITFAAS_ASYNC_SUBJECT;
  const d = env.GITFAAS_ASYNC_DEAD_SUBJECT;
  if (a === d || d.startsWith(`${a}.`) || a.startsWith(`${d}.`)) {
    problems.push({
      path: 'GITFAAS_ASYNC_DEAD_SUBJECT',
      message: `must not overlap GITFAAS_ASYNC_SUBJECT ("${a}"); use e.g. gitfaas.dead`,
    });
  }
  return problems;
}
