// Owner subdomain labels: which namespace the first label of `<label>.<domain>` stands for,
// and which label a namespace is linked with. One git host's logins get the bare label
// (`alice.<domain>` is GitHub's alice, namespace gh-alice); every owner keeps the namespace
// form (`gh-alice.<domain>`, `gl-alice.<domain>`). The two never collide, because a label
// with an owner prefix is always read as a namespace: a login that itself starts with
// "gh-" or "gl-", or is a reserved name, is linked by its namespace form instead. So each
// label names exactly one namespace, and each owner's label leads back to that owner.
import { z } from 'zod';
import { isDnsLabel, type Scm } from './names.js';

/** Which git host's logins get bare labels; "none" keeps only the namespace form. */
export type BareLabels = Scm | 'none';

const OWNER_PREFIXES = ['gh-', 'gl-'];
const PREFIX: Record<Scm, string> = { github: 'gh-', gitlab: 'gl-' };

/** Labels that never name an owner: names an operator may want for the gateway itself. */
export const RESERVED_LABELS: ReadonlySet<string> = new Set(['www', 'api', 'admin', 'gateway', 'system', 'dashboard', 'auth', 'login', 'status', 'metrics']);

const hasOwnerPrefix = (label: string) => OWNER_PREFIXES.some((p) => label.startsWith(p));

/** The namespace a subdomain label stands for, or undefined when it names no owner. */
export function namespaceOfLabel(label: string, bare: BareLabels): string | undefined {
  if (!isDnsLabel(label)) return undefined;
  if (bare === 'none' || hasOwnerPrefix(label)) return label;
  if (RESERVED_LABELS.has(label)) return undefined;
  const namespace = PREFIX[bare] + label;
  return isDnsLabel(namespace) ? namespace : undefined;
}

/** The label a namespace's functions are linked with: the bare login where it is unambiguous. */
export function labelOfNamespace(namespace: string, bare: BareLabels): string {
  if (bare === 'none' || !namespace.startsWith(PREFIX[bare])) return namespace;
  const login = namespace.slice(PREFIX[bare].length);
  return namespaceOfLabel(login, bare) === namespace ? login : namespace;
}

/** GITFAAS_BARE_LABELS, read the same way by the gateway (routing) and the deployer (status links). */
export const bareLabelsVar = z.enum(['github', 'gitlab', 'none'], { message: 'expected github, gitlab or none' }).default('github');
