// Names of functions and namespaces, and the rule that maps a repository owner to the
// namespace that owner's functions live in.
import { createHash } from 'node:crypto';

/** OpenFaaS's default namespace; faas-cli invokes NAME.openfaas-fn unless told otherwise. */
export const DEFAULT_NAMESPACE = 'openfaas-fn';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A DNS-1123 label: lower-case letters, digits and '-', starting and ending alphanumeric, at most 63. */
export function isDnsLabel(value: string): boolean {
  return value.length > 0 && value.length <= 63 && DNS_LABEL.test(value);
}

export function dnsLabelProblem(value: string): string | undefined {
  if (isDnsLabel(value)) return undefined;
  if (value.length === 0) return 'is empty';
  if (value.length > 63) return `is ${value.length} characters long; at most 63 are allowed`;
  return 'must be a DNS-1123 label: lower-case letters, digits and "-", starting and ending with a letter or digit';
}

/** Splits OpenFaaS's "NAME.NAMESPACE" into its parts; the namespace is undefined when absent. */
export function parseFunctionRef(ref: string): { name: string; namespace: string | undefined } {
  const dot = ref.indexOf('.');
  if (dot === -1) return { name: ref, namespace: undefined };
  return { name: ref.slice(0, dot), namespace: ref.slice(dot + 1) };
}

export type Scm = 'github' | 'gitlab';

const SCM_PREFIX: Record<Scm, string> = { github: 'gh', gitlab: 'gl' };

/**
 * The namespace of a repository owner. The SCM prefix keeps a GitHub and a GitLab owner of
 * the same login apart. GitHub logins (letters, digits, single hyphens, case-insensitive)
 * are valid DNS labels once lower-cased, so they map one to one. Any login that is not
 * (GitLab allows '.', '_' and case) is reduced to a label and suffixed with a hash of the
 * exact login after "--", a pair of hyphens a clean login never produces here, so two
 * different logins never share a namespace.
 */
export function ownerNamespace(scm: Scm, login: string): string {
  const prefix = SCM_PREFIX[scm];
  const lower = login.toLowerCase();
  const clean = `${prefix}-${lower}`;
  if (isDnsLabel(clean) && !lower.includes('--')) return clean;
  const hash = createHash('sha256').update(lower).digest('hex').slice(0, 8);
  const reduced = lower
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 63 - prefix.length - 2 - hash.length - 2);
  return `${prefix}-${reduced || 'x'}--${hash}`;
}
