// The deployer's preview settings (docs/configuration.md, "Previews"): whether pull/merge
// requests get previews, the owner's separate allowance, how long a preview lives without
// a push, how often that is checked, and which owners let forks' pull requests preview.
import { z } from 'zod';
import { booleanVar, durationVar, positiveIntVar } from '../../shared/config.js';

export const DEFAULT_PREVIEW_TTL_MS = 7 * 24 * 3600 * 1000;

/** Fork pull requests: none get previews, all do, or those of the listed owners (lower case). */
export type ForkPolicy = { kind: 'none' } | { kind: 'all' } | { kind: 'owners'; owners: Set<string> };

const forkVar = z
  .string()
  .optional()
  .transform((value, ctx): ForkPolicy => {
    const v = (value ?? '').trim().toLowerCase();
    if (v === '' || v === 'false') return { kind: 'none' };
    if (v === 'true') return { kind: 'all' };
    const owners = v.split(',').map((o) => o.trim()).filter(Boolean);
    const bad = owners.find((o) => !/^[a-z0-9][a-z0-9._-]*$/.test(o));
    if (bad !== undefined) {
      ctx.addIssue({ code: 'custom', message: `expected true, false or a comma-separated list of owner logins, got "${bad}"` });
      return z.NEVER;
    }
    return { kind: 'owners', owners: new Set(owners) };
  });

/** Zod shape (keyed by variable name) to spread into the deployer's config schema. */
export const previewEnvShape = {
  GITFAAS_PREVIEWS: booleanVar(true),
  GITFAAS_QUOTA_PREVIEW_FUNCTIONS: positiveIntVar(10),
  GITFAAS_PREVIEW_TTL: durationVar(DEFAULT_PREVIEW_TTL_MS),
  GITFAAS_PREVIEW_SWEEP_INTERVAL: durationVar(3600 * 1000),
  GITFAAS_PREVIEW_FORKS: forkVar,
};

export interface PreviewSettings {
  enabled: boolean;
  /** Preview functions an owner may run at once, over all repositories and pull requests. */
  quota: number;
  ttlMs: number;
  sweepIntervalMs: number;
  forks: ForkPolicy;
}

export function previewSettings(env: {
  GITFAAS_PREVIEWS: boolean;
  GITFAAS_QUOTA_PREVIEW_FUNCTIONS: number;
  GITFAAS_PREVIEW_TTL: number;
  GITFAAS_PREVIEW_SWEEP_INTERVAL: number;
  GITFAAS_PREVIEW_FORKS: ForkPolicy;
}): PreviewSettings {
  return {
    enabled: env.GITFAAS_PREVIEWS,
    quota: env.GITFAAS_QUOTA_PREVIEW_FUNCTIONS,
    ttlMs: env.GITFAAS_PREVIEW_TTL,
    sweepIntervalMs: env.GITFAAS_PREVIEW_SWEEP_INTERVAL,
    forks: env.GITFAAS_PREVIEW_FORKS,
  };
}

/** Whether a fork's pull request to this owner's repository may run as a preview. */
export function forkAllowed(policy: ForkPolicy, owner: string): boolean {
  if (policy.kind === 'all') return true;
  if (policy.kind === 'none') return false;
  return policy.owners.has(owner.toLowerCase());
}
