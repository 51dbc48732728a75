// The deploy side of rollbacks (rollback-job.ts does the rollback itself): what went live
// goes into the deploy history, and a deploy checks whether a rollback holds.
import type { DeployJob } from '../../shared/jobs.js';
import type { Logger } from '../../shared/logger.js';
import type { DeployDeps } from './deploy-job.js';

/**
 * A rollback holds until a new push to the default branch: a push event numbered after the
 * rollback lifts it; an older event (a redelivery, a retried job) or an admin's rebuild or
 * redeploy does not, and is not deployed. Says why when it is held.
 */
export async function rolledBack(job: DeployJob, deps: Pick<DeployDeps, 'deployHistory'>): Promise<string | undefined> {
  const hold = await deps.deployHistory?.hold(job.build.source);
  if (!hold) return undefined;
  const newPush = (job.build.trigger ?? 'webhook') === 'webhook' && job.build.seq > hold.seq;
  if (newPush) return undefined;
  return `rolled back to ${hold.sha.slice(0, 7)}; a new push to ${job.build.source.defaultBranch} deploys again`;
}

/** What went live goes into the deploy history, and a new push ends any rollback hold. */
export async function recordLive(job: DeployJob, deps: Pick<DeployDeps, 'deployHistory'>, log: Logger): Promise<void> {
  if (!deps.deployHistory) return;
  const { source, buildId } = job.build;
  try {
    await deps.deployHistory.record({ sha: source.sha, ...(buildId ? { buildId } : {}), at: new Date().toISOString(), source, functions: job.functions });
    await deps.deployHistory.clearHold(source);
  } catch (err) {
    log.warn({ err }, 'could not record the deploy in the deploy history');
  }
}
