// What the GitHub and GitLab routes do once a delivery is verified and normalised: the
// customer list, the status that explains a skipped commit, and the build job stored in
// Redis before 202 (503 when Redis cannot store it, so the host redelivers).
import type { Context } from 'hono';
import { checkCloneUrl, type GitOrigins } from '../../shared/git-origins.js';
import type { BuildJob, SourceRef } from '../../shared/jobs.js';
import type { Logger } from '../../shared/logger.js';
import { AGGREGATE_CONTEXT, type StatusReporter } from '../../shared/status.js';
import type { Allowlist } from '../../shared/allowlist.js';
import { type BuildEnqueuer, RedisUnavailable } from './enqueue.js';
import type { PreviewCloser } from './preview-close.js';

export interface AcceptDeps {
  enqueuer: BuildEnqueuer;
  allowlist: Allowlist;
  reporter: StatusReporter;
  /** Where clone URLs may point (GITHUB_URL, GITLAB_URL, GITFAAS_GIT_HOSTS). */
  origins: GitOrigins;
  log: Logger;
  /** Stores the removal of a closed pull request's previews. */
  previews?: PreviewCloser;
}

export type Decision =
  | { action: 'build'; kind: BuildJob['kind']; source: SourceRef; pushedBy?: string }
  | { action: 'close-preview'; reason: 'closed' | 'merged'; source: SourceRef & { pullRequest: number } }
  /** Nothing to build; `source` set when the commit should hear why. */
  | { action: 'skip'; reason: string; source?: SourceRef };

/** Statuses that explain a skipped commit are sent after the answer, off the request path. */
function tellCommit(deps: AcceptDeps, source: SourceRef, state: 'success' | 'failure', description: string, log: Logger): void {
  deps.reporter
    .report(source, { context: AGGREGATE_CONTEXT, state, description })
    .catch((err) => log.warn({ err }, 'could not send the status that explains the skipped commit'));
}

export async function acceptDecision(c: Context, deps: AcceptDeps, decision: Decision, deliveryId: string, log: Logger): Promise<Response> {
  if (decision.source) {
    // Known at the edge without asking anyone: the sender hears it (no status is sent to a
    // commit of a repository the payload may not really name).
    const check = checkCloneUrl(decision.source, deps.origins);
    if (!check.ok) {
      log.warn({ repo: decision.source.fullName, problem: check.problem }, 'clone URL refused');
      return c.text(`${check.problem}\n`, 400);
    }
  }
  if (decision.source && !deps.allowlist.allows(decision.source.owner, decision.source.scm)) {
    const reason = `not built: ${decision.source.owner} is not on this gitfaas installation's customer list`;
    log.info({ owner: decision.source.owner, scm: decision.source.scm }, 'owner not allowed');
    tellCommit(deps, decision.source, 'failure', reason, log);
    return c.json({ message: reason }, 403);
  }
  if (decision.action === 'skip') {
    log.debug({ reason: decision.reason }, 'event ignored');
    if (decision.source) tellCommit(deps, decision.source, 'success', decision.reason, log);
    return c.json({ message: `ignored: ${decision.reason}` }, 202);
  }
  if (decision.action === 'close-preview') {
    if (!deps.previews) return c.json({ message: 'ignored: previews are not handled by this receiver' }, 202);
    try {
      const jobId = await deps.previews.close(decision.source, decision.reason, deliveryId);
      log.info({ repo: decision.source.fullName, pullRequest: decision.source.pullRequest, reason: decision.reason }, 'preview removal queued');
      return c.json({ message: `preview removal queued: pull request ${decision.reason}`, jobId }, 202);
    } catch (err) {
      log.error({ err }, 'preview removal not stored');
      return c.text('preview queue unavailable: redeliver this webhook later\n', 503);
    }
  }
  try {
    const queued = await deps.enqueuer.enqueue(decision.kind, decision.source, deliveryId, { pushedBy: decision.pushedBy });
    // The log line names the build log's URL: without a git host token (no statuses), this
    // and the admin builds API are where an operator finds it.
    log.info({ ...queued, repo: decision.source.fullName, sha: decision.source.sha, kind: decision.kind }, `build queued; log at ${queued.logUrl ?? '(unknown)'}`);
    return c.json({ message: queued.duplicate ? 'already queued' : 'queued', ...queued }, 202);
  } catch (err) {
    if (err instanceof RedisUnavailable) {
      if (err.maybeStored) {
        // Redis hung or dropped the connection after the write went out: the job may well
        // be there (and be built). Say only what is known; a redelivery is deduplicated.
        log.error({ err }, 'build job not confirmed by Redis');
        return c.text('build queue did not confirm in time: this delivery may be stored; redeliver it, it will be deduplicated\n', 503);
      }
      log.error({ err }, 'build not stored');
      return c.text('build queue unavailable, nothing stored: redeliver this webhook later\n', 503);
    }
    return c.text(`cannot queue this event: ${(err as Error).message}\n`, 400);
  }
}
