// How a function's deployment is written onto its Docker containers and read back: the
// containers (labels, env, host config) are the only record of a function's state.

/** Every container gitfaas manages carries this label, so nothing else is ever touched. */
export const MANAGED = 'com.gitfaas.managed';
/** The gateway instance (GITFAAS_INSTANCE) a container belongs to; others never see it. */
export const INSTANCE = 'com.gitfaas.instance';
export const FUNCTION = 'com.gitfaas.function';
export const NAMESPACE = 'com.gitfaas.namespace';
/** Deployment revision (milliseconds); a rolling update starts a newer one. */
export const GENERATION = 'com.gitfaas.generation';
/** "replica" runs and serves; "parked" is never started and keeps the spec at 0 replicas. */
export const ROLE = 'com.gitfaas.role';
export const ENV_KEYS = 'com.gitfaas.env-keys';
export const ENV_PROCESS = 'com.gitfaas.env-process';
export const SECRETS = 'com.gitfaas.secrets';
export const CONSTRAINTS = 'com.gitfaas.constraints';
export const LIMIT_MEMORY = 'com.gitfaas.limits.memory';
export const LIMIT_CPU = 'com.gitfaas.limits.cpu';
export const REQUEST_MEMORY = 'com.gitfaas.requests.memory';
export const REQUEST_CPU = 'com.gitfaas.requests.cpu';
/** Annotations are stored as labels under this prefix. */
export const ANNOTATION_PREFIX = 'com.gitfaas.annotation.';
/** Keys under this prefix are reserved; user labels may not use it. */
export const RESERVED_PREFIX = 'com.gitfaas.';

export type Role = 'replica' | 'parked';

export const SECRETS_MOUNT = '/var/openfaas/secrets';
export const FUNCTION_PORT = '8080/tcp';

/** Docker label filters selecting exactly one gateway instance's containers. */
export function instanceFilter(instance: string): string[] {
  return [`${MANAGED}=true`, `${INSTANCE}=${instance}`];
}
