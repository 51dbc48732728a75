// The labels and annotations gitfaas writes on Kubernetes objects. faas_function is
// faas-netes's, so tooling that knows OpenFaaS on Kubernetes recognises our functions; the
// rest say which objects gitfaas owns and which gateway instance they belong to.

/** Selector and pod label, as faas-netes sets it. */
export const FUNCTION = 'faas_function';
/** On every object gitfaas creates (namespaces, Deployments, Services, Secrets). */
export const MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'gitfaas';
/** The gateway instance (GITFAAS_INSTANCE) a function belongs to; other instances never see it. */
export const INSTANCE = 'gitfaas.dev/instance';
/** Keys under these prefixes are gitfaas's own; user labels and annotations may not use them. */
export const RESERVED_PREFIXES = ['gitfaas.dev/', 'app.kubernetes.io/managed-by'] as const;
/** Annotation keeping what the Deployment spec cannot say back exactly (the secrets' names, constraints). */
export const SPEC_ANNOTATION = 'gitfaas.dev/spec';
/** Set by the EndpointSlice controller on every slice of a Service. */
export const SERVICE_NAME = 'kubernetes.io/service-name';

export const SECRETS_MOUNT = '/var/openfaas/secrets';
export const FUNCTION_PORT = 8080;
export const PORT_NAME = 'http';
export const CONTAINER_NAME = 'function';
/** The Secret holding GITFAAS_KUBE_IMAGE_PULL_SECRET in every managed namespace. */
export const PULL_SECRET_NAME = 'gitfaas-registry-credentials';

export const managedSelector = `${MANAGED_BY}=${MANAGED_BY_VALUE}`;

export function instanceSelector(instance: string): string {
  return `${managedSelector},${INSTANCE}=${instance}`;
}

export function isReserved(key: string): boolean {
  const lower = key.toLowerCase();
  return lower === FUNCTION || RESERVED_PREFIXES.some((p) => lower.startsWith(p));
}
