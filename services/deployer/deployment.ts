// A built function as the gateway's FunctionDeployment, labelled the way OpenFaaS Cloud
// labelled its functions (com.openfaas.cloud.git-*) so existing tooling can read them,
// plus the repository id that scopes garbage collection to one repository.
import type { BuildJob, BuiltFunction } from '../../shared/jobs.js';
import type { FunctionDeployment, FunctionStatus } from '../gateway/providers/provider.js';

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
    // Ours last: stack.yml cannot forge the labels garbage collection trusts.
    labels: {
      ...fn.labels,
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

/**
 * Functions this repository deployed earlier that its stack.yml no longer lists. Only
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
      !keep.has(fn.name),
  );
}
