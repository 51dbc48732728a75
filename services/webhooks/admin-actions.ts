// What an admin can ask of the build side without a webhook: rebuild a repository (the
// head of its default branch, or a given commit) and redeploy what is live (the functions
// of its newest successful build, exactly as they were built). Both take a fresh sequence
// number, so they count as the newest event of the branch (newest-commit-wins applies).
import type { Queue } from 'bullmq';
import type { KnownRepository } from '../../shared/build-history.js';
import { defaultBranchSource, newBuildId } from '../../shared/build-history.js';
import { BuildLog, newBuildLogToken } from '../../shared/build-logs.js';
import { BuildJob, buildJobId, DeployJob, type SourceRef } from '../../shared/jobs.js';
import type { BuildEnqueuer, Enqueued } from './enqueue.js';
import { resolveBranchHead } from './resolve-head.js';

export class AdminRequestError extends Error {
  override name = 'AdminRequestError';
  constructor(
    message: string,
    readonly status: 400 | 404 | 409 | 502,
  ) {
    super(message);
  }
}

export interface AdminActionDeps {
  enqueuer: BuildEnqueuer;
  deploys: Queue;
  cloneCredentials: (source: SourceRef) => Promise<{ username: string; password: string } | undefined>;
  buildLogTtlMs?: number;
}

/** One known repository from "owner/name" (and, when two hosts have it, the scm). */
export async function findRepository(deps: AdminActionDeps, fullName: unknown, scm: unknown): Promise<KnownRepository> {
  if (typeof fullName !== 'string' || !fullName.includes('/')) {
    throw new AdminRequestError('expected "repository": "owner/name" in the JSON body', 400);
  }
  if (scm !== undefined && scm !== 'github' && scm !== 'gitlab') throw new AdminRequestError('"scm" must be "github" or "gitlab"', 400);
  const found = await deps.enqueuer.history.findRepository(fullName, scm);
  if (found.length === 0) {
    throw new AdminRequestError(`no build of ${fullName} is known here: gitfaas learns a repository from its first webhook`, 404);
  }
  if (found.length > 1) throw new AdminRequestError(`${fullName} is known on both GitHub and GitLab: add "scm"`, 400);
  return found[0];
}

export async function rebuild(deps: AdminActionDeps, repo: KnownRepository, sha: unknown, by: string): Promise<Enqueued & { sha: string }> {
  if (sha !== undefined && (typeof sha !== 'string' || !/^[0-9a-f]{40}$/.test(sha))) {
    throw new AdminRequestError('"sha" must be a full 40-hex commit sha (or left out for the default branch head)', 400);
  }
  let commit = sha;
  if (commit === undefined) {
    const probe = defaultBranchSource(repo, '0'.repeat(40));
    const credentials = repo.private ? await deps.cloneCredentials(probe) : undefined;
    try {
      commit = await resolveBranchHead(repo.cloneUrl, repo.defaultBranch, credentials);
    } catch (err) {
      throw new AdminRequestError((err as Error).message, 502);
    }
  }
  const queued = await deps.enqueuer.enqueue('push', defaultBranchSource(repo, commit), `admin-rebuild-${Date.now()}`, { trigger: 'rebuild', pushedBy: by });
  return { ...queued, sha: commit };
}

/** Redeploys the functions of the newest successful push build of the default branch. */
export async function redeploy(deps: AdminActionDeps, repo: KnownRepository, by: string): Promise<Enqueued & { sha: string; from: string }> {
  const { history } = deps.enqueuer;
  const builds = await history.list({ repository: repo, limit: 100 });
  const live = builds.find((b) => b.state === 'success' && b.kind === 'push' && b.branch === repo.defaultBranch);
  if (!live) throw new AdminRequestError(`${repo.fullName} has no successful build of ${repo.defaultBranch} in the build history to redeploy`, 409);
  const functions = await history.deployable(live.id);
  if (!functions) throw new AdminRequestError(`build ${live.id} of ${repo.fullName} did not keep what it deployed; rebuild instead`, 409);

  const source = defaultBranchSource(repo, live.sha);
  const buildId = newBuildId();
  const logToken = newBuildLogToken();
  const jobId = `${buildJobId(source, 'push')}-redeploy-${buildId}`;
  const [seq] = await deps.enqueuer.nextSeq(source, jobId);
  const build = BuildJob.parse({
    kind: 'push',
    source,
    deliveryId: `admin-redeploy-${Date.now()}`,
    seq,
    receivedAt: new Date().toISOString(),
    buildId,
    logToken,
    pushedBy: by,
    trigger: 'redeploy',
  });
  const logUrl = deps.enqueuer.logUrl(logToken);
  await history.create({ ...build, buildId }, logUrl, 'redeploy');
  await history.setDeployable(buildId, functions);
  const log = new BuildLog(deps.enqueuer.redis, deps.enqueuer.prefix, deps.buildLogTtlMs, logToken);
  log.line(`gitfaas redeploy of ${repo.fullName} ${live.sha} (build ${live.id}), asked by ${by}: ${functions.map((f) => f.name).join(', ')}`);
  await log.flush();
  await deps.deploys.add('deploy', DeployJob.parse({ build, functions, logUrl, stages: {} }), {
    jobId: `deploy-${jobId}`,
    removeOnComplete: { age: 7 * 24 * 3600 },
    removeOnFail: { age: 7 * 24 * 3600 },
  });
  return { jobId, seq, duplicate: false, buildId, logUrl, sha: live.sha, from: live.id };
}
