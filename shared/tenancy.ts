// What a repository may deploy into its owner's namespace: the namespace itself, names,
// reserved labels and annotations, and the owner's quotas. Used where a stack.yml is
// turned into deployments, so a violation fails that push with a status naming it.
import { z } from 'zod';
import { positiveIntVar } from './config.js';
import { dnsLabelProblem } from './names.js';
import { parseCpu, parseMemory } from './quantity.js';

export interface Quotas {
  functionsPerOwner: number;
  replicasPerFunction: number;
  /** Largest memory limit per replica, and the limit applied when stack.yml gives none. */
  maxMemory: string;
  defaultMemory: string;
  /** Largest CPU limit per replica, and the limit applied when stack.yml gives none. */
  maxCpu: string;
  defaultCpu: string;
}

export const DEFAULT_QUOTAS: Quotas = {
  functionsPerOwner: 20,
  replicasPerFunction: 5,
  maxMemory: '1Gi',
  defaultMemory: '256Mi',
  maxCpu: '1',
  defaultCpu: '500m',
};

/** Labels and annotations only gitfaas sets. com.gitfaas.domain is the user's to claim a custom domain. */
const RESERVED_PREFIXES = ['com.openfaas.cloud.', 'com.gitfaas.'];
const USER_KEYS = new Set(['com.gitfaas.domain']);
const SCALE_KEYS = ['com.openfaas.scale.min', 'com.openfaas.scale.max'];

/**
 * Whether a label or annotation key is gitfaas's to set. Matched without regard to case:
 * a backend or a tool that lowercases keys must not turn COM.GITFAAS.instance into ours.
 */
export function isReservedKey(key: string): boolean {
  const lower = key.toLowerCase();
  return !USER_KEYS.has(key) && RESERVED_PREFIXES.some((prefix) => lower.startsWith(prefix));
}

export interface TenantFunction {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  limits?: { memory?: string; cpu?: string };
  requests?: { memory?: string; cpu?: string };
}

export interface TenancyCheck {
  /** The owner's namespace, from the repository owner's login; undefined: `namespace:` is not checked. */
  namespace: string | undefined;
  functions: TenantFunction[];
  /** Functions the owner already runs from OTHER repositories (this repository's are replaced). */
  otherFunctionsOfOwner: number;
  quotas: Quotas;
}

/** Every problem with the functions of one push, each naming function, field and reason. */
export function tenancyProblems(check: TenancyCheck): string[] {
  const { quotas } = check;
  const problems: string[] = [];
  const total = check.otherFunctionsOfOwner + check.functions.length;
  if (total > quotas.functionsPerOwner) {
    problems.push(
      `quota functionsPerOwner: ${check.namespace ?? 'this owner'} would run ${total} functions, the quota is ${quotas.functionsPerOwner}`,
    );
  }
  for (const fn of check.functions) {
    const at = (field: string) => `function ${fn.name}: ${field}`;
    const nameProblem = dnsLabelProblem(fn.name);
    if (nameProblem) problems.push(`${at('name')} ${nameProblem}`);
    if (fn.namespace !== undefined && check.namespace !== undefined && fn.namespace !== check.namespace) {
      problems.push(`${at('namespace')} "${fn.namespace}" is not this owner's namespace; functions deploy to "${check.namespace}" only`);
    }
    for (const [field, map] of [['labels', fn.labels], ['annotations', fn.annotations]] as const) {
      for (const [key, value] of Object.entries(map ?? {})) {
        if (isReservedKey(key)) {
          problems.push(`${at(`${field}.${key}`)} is reserved for gitfaas and cannot be set`);
        }
        if (SCALE_KEYS.includes(key)) {
          const replicas = Number(value);
          if (!Number.isInteger(replicas) || replicas < 0 || replicas > quotas.replicasPerFunction) {
            problems.push(`${at(`${field}.${key}`)} "${value}" is outside the quota replicasPerFunction (0 to ${quotas.replicasPerFunction})`);
          }
        }
      }
    }
    for (const [field, resources] of [['limits', fn.limits], ['requests', fn.requests]] as const) {
      if (resources?.memory !== undefined) {
        const bytes = parseMemory(resources.memory);
        if (bytes === undefined) problems.push(`${at(`${field}.memory`)} "${resources.memory}" is not a quantity such as 128Mi`);
        else if (bytes > parseMemory(quotas.maxMemory)!) problems.push(`${at(`${field}.memory`)} ${resources.memory} is over the quota maxMemory (${quotas.maxMemory})`);
      }
      if (resources?.cpu !== undefined) {
        const cpus = parseCpu(resources.cpu);
        if (cpus === undefined) problems.push(`${at(`${field}.cpu`)} "${resources.cpu}" is not a quantity such as 500m`);
        else if (cpus > parseCpu(quotas.maxCpu)!) problems.push(`${at(`${field}.cpu`)} ${resources.cpu} is over the quota maxCpu (${quotas.maxCpu})`);
      }
    }
  }
  return problems;
}

/** Limits with the owner's defaults filled in where stack.yml gives none. */
export function limitsWithDefaults(limits: TenantFunction['limits'], quotas: Quotas): { memory: string; cpu: string } {
  return { memory: limits?.memory ?? quotas.defaultMemory, cpu: limits?.cpu ?? quotas.defaultCpu };
}

const quantity = (fallback: string, parse: (v: string) => number | undefined, example: string) =>
  z
    .string()
    .default(fallback)
    .refine((v) => parse(v) !== undefined, { message: `expected a quantity such as ${example}` });

/** Zod shape (keyed by variable name) for the quotas, to spread into a service's config schema. */
export const quotaEnvShape = {
  GITFAAS_QUOTA_FUNCTIONS: positiveIntVar(DEFAULT_QUOTAS.functionsPerOwner),
  GITFAAS_QUOTA_REPLICAS: positiveIntVar(DEFAULT_QUOTAS.replicasPerFunction),
  GITFAAS_QUOTA_MAX_MEMORY: quantity(DEFAULT_QUOTAS.maxMemory, parseMemory, '1Gi'),
  GITFAAS_QUOTA_DEFAULT_MEMORY: quantity(DEFAULT_QUOTAS.defaultMemory, parseMemory, '256Mi'),
  GITFAAS_QUOTA_MAX_CPU: quantity(DEFAULT_QUOTAS.maxCpu, parseCpu, '1'),
  GITFAAS_QUOTA_DEFAULT_CPU: quantity(DEFAULT_QUOTAS.defaultCpu, parseCpu, '500m'),
};

export function quotasFromEnv(env: {
  GITFAAS_QUOTA_FUNCTIONS: number;
  GITFAAS_QUOTA_REPLICAS: number;
  GITFAAS_QUOTA_MAX_MEMORY: string;
  GITFAAS_QUOTA_DEFAULT_MEMORY: string;
  GITFAAS_QUOTA_MAX_CPU: string;
  GITFAAS_QUOTA_DEFAULT_CPU: string;
}): Quotas {
  return {
    functionsPerOwner: env.GITFAAS_QUOTA_FUNCTIONS,
    replicasPerFunction: env.GITFAAS_QUOTA_REPLICAS,
    maxMemory: env.GITFAAS_QUOTA_MAX_MEMORY,
    defaultMemory: env.GITFAAS_QUOTA_DEFAULT_MEMORY,
    maxCpu: env.GITFAAS_QUOTA_MAX_CPU,
    defaultCpu: env.GITFAAS_QUOTA_DEFAULT_CPU,
  };
}
