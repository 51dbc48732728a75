// A built function as the gateway's FunctionDeployment, labelled the way OpenFaaS Cloud
// labelled its functions (com.openfaas.cloud.git-*) so existing tooling can read them,
// plus the repository id that scopes garbage collection to one repository.
import type { BuildJob, BuiltFunction } from '../../shared/jobs.js';
import type { FunctionDeployment, FunctionStatus } from '../../shared/openfaas-types.js';
import { PREVIEW_LABEL, isPreview } from './preview-name.js';

export const LABEL = {
  owner: 'com.openfaas.cloud.git-owner',
  repo: 'com.openfaas.cloud.git-repo',
  sha: 'com.openfaas.cloud.git-sha',
  branch: 'com.openfaas.cloud.git-branch',
  deployTime: 'com.openfaas.cloud.git-deploytime',
  scm: 'com.openfaas.cloud.git-scm',
  repoId: 'com.openfaas.cloud.git-repo-id',
} as const;

export function toDeployment(fn: BuiltFunction, build: BuildJob, now = new Date()): FunctionDeployment & { namespace: string } {
  const { source } = build;
  return {
    service: fn.name,
    image: fn.image,
    namespace: source.namespace,
    envVars: fn.envVars,
    secrets: fn.secrets,
    annotations: fn.annotations,
    ...(fn.limits ? { limits: fn.limits } : {}),
    ...(fn.requests ? { requests: fn.requests } : {}),
    ...(fn.readOnlyRootFilesystem !== undefined ? { readOnlyRootFilesystem: fn.readOnlyRootFilesystem } : {}),
    // Ours last: stack.yml cannot forge the labels garbage collection trusts, nor pass a
    // production function off as a preview (preview-deploy.ts adds those after this).
    labels: {
      ...withoutPreviewLabels(fn.labels),
      [LABEL.owner]: source.owner,
      [LABEL.repo]: source.repo,
      [LABEL.sha]: source.sha,
      [LABEL.branch]: source.branch,
      [LABEL.deployTime]: String(Math.floor(now.getTime() / 1000)),
      [LABEL.scm]: source.scm,
      [LABEL.repoId]: String(source.repoId),
    },
  };
}

function withoutPreviewLabels(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).filter(([key]) => !key.toLowerCase().startsWith(PREVIEW_LABEL.preview)));
}

/**
 * Why this build may not deploy `name`: the live function of that name in the namespace
 * belongs to another repository (its scm and repository id labels differ), so deploying
 * would silently replace it. Undefined when the name is free, this repository's, or held
 * by a function deployed by hand (no repository labels: the admin's to replace).
 */
export function heldByAnotherRepository(existing: FunctionStatus[], build: BuildJob, name: string): string | undefined {
  const { source } = build;
  const live = existing.find((fn) => fn.name === name && (fn.namespace ?? source.namespace) === source.namespace);
  const labels = live?.labels;
  if (live && isPreview(live)) {
    return `the name "${name}" is held by a preview of pull request #${labels?.[PREVIEW_LABEL.pr]} of ${labels?.[PREVIEW_LABEL.repo]}: rename the function, or close that pull request`;
  }
  if (!labels?.[LABEL.repoId]) return undefined;
  if (labels[LABEL.scm] === source.scm && labels[LABEL.repoId] === String(source.repoId)) return undefined;
  const holder = `${labels[LABEL.owner] ?? source.owner}/${labels[LABEL.repo] ?? `repository ${labels[LABEL.repoId]}`}`;
  return (
    `the name "${name}" is held by ${holder} (${labels[LABEL.scm] ?? 'unknown scm'}): ` +
    `remove it from that repository's stack.yml (or ask an admin to delete it), then push again`
  );
}

/**
 * Functions this repository deployed earlier that its stack.yml no longer lists (previews
 * excepted: they go with their pull request, services/deployer/preview-remove.ts). Only
 * functions carrying this repository's scm and id (and owner) qualify: a function of
 * another repository, or one deployed by hand, is never touched.
 */
export function staleFunctions(existing: FunctionStatus[], build: BuildJob, keep: Set<string>): FunctionStatus[] {
  const { source } = build;
  return existing.filter(
    (fn) =>
      (fn.namespace ?? source.namespace) === source.namespace &&
      fn.labels?.[LABEL.scm] === source.scm &&
      fn.labels?.[LABEL.repoId] === String(source.repoId) &&
      fn.labels?.[LABEL.owner]?.toLowerCase() === source.owner.toLowerCase() &&
      // Previews of the repository's pull requests are not its production functions.
      !isPreview(fn) &&
      !keep.has(fn.name),
  );
}
