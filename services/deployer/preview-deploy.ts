// A pull/merge request's build, deployed as previews: each function as `<fn>-pr<n>`
// (preview-name.ts) in the owner's namespace, labelled as a preview, within the owner's
// preview allowance (GITFAAS_QUOTA_PREVIEW_FUNCTIONS), never over a function that is not
// this pull request's own preview. The sticky comment lists every preview's URL and
// state; previews of functions the pull request no longer lists are removed. Forks'
// pull requests, and every pull request with GITFAAS_PREVIEWS=false, are built only.
import type { BuiltFunction, DeployJob, SourceRef } from '../../shared/jobs.js';
import type { Logger } from '../../shared/logger.js';
import { AGGREGATE_CONTEXT, type StatusUpdate } from '../../shared/status.js';
import { claimDeploy, isSuperseded, supersededText } from '../../shared/supersede.js';
import type { DeployDeps, DeployOutcome, DeployTrail } from './deploy-job.js';
import { deployFailure, fitDescription } from './deploy-failure.js';
import { toDeployment } from './deployment.js';
import { missingSecrets } from './missing-secrets.js';
import { forkAllowed, type PreviewSettings } from './preview-config.js';
import { previewComment } from './preview-comment.js';
import type { PreviewCommenter } from './preview-commenter.js';
import { isPreview, isPreviewOf, previewLabels, previewName } from './preview-name.js';
import { previewLockKey } from './preview-lock.js';
import type { PreviewFunction, PreviewStore } from './preview-store.js';
import { waitUntilAnswering } from './readiness.js';
import { withRepoLock } from './repo-lock.js';

export interface PreviewDeps {
  settings: PreviewSettings;
  store: PreviewStore;
  commenter: PreviewCommenter;
}

type Report = (update: StatusUpdate) => Promise<void>;
type PrSource = SourceRef & { pullRequest: number };

/** Why this pull request gets no preview, or undefined when it does. */
function noPreviewReason(source: SourceRef, settings: PreviewSettings): string | undefined {
  if (!settings.enabled) return 'previews are off here (GITFAAS_PREVIEWS=false)';
  if (source.fork && !forkAllowed(settings.forks, source.owner)) {
    return `pull request from a fork: no preview, since it would run with ${source.owner}'s secrets (GITFAAS_PREVIEW_FORKS)`;
  }
  return undefined;
}

export async function deployPreviews(job: DeployJob, deps: DeployDeps & { previews: PreviewDeps }, trail: DeployTrail, report: Report): Promise<DeployOutcome> {
  const { build } = job;
  const source = { ...build.source, pullRequest: build.source.pullRequest! } as PrSource;
  const log = deps.log.child({ repo: source.fullName, sha: source.sha, pullRequest: source.pullRequest });
  const each = (fn: (f: BuiltFunction) => StatusUpdate) => Promise.all(job.functions.map((f) => report(fn(f))));
  const end = async (state: 'success' | 'failure' | 'cancelled', description: string, perFunction?: (f: BuiltFunction) => string) => {
    await each((f) => ({ context: `${AGGREGATE_CONTEXT}/${f.name}`, state, description: fitDescription(perFunction?.(f) ?? description), targetUrl: job.logUrl }));
    await report({ context: AGGREGATE_CONTEXT, state, description: fitDescription(description), targetUrl: job.logUrl });
  };

  const skip = noPreviewReason(source, deps.previews.settings);
  if (skip) {
    const reason = `built; not deployed: ${skip}`;
    await end('success', reason);
    trail.line(reason);
    await trail.state('success', reason);
    return { outcome: 'not-deployed', reason };
  }

  const lockWaitMs = deps.readyTimeoutMs * 2 + 60_000;
  return withRepoLock(deps.redis, previewLockKey(deps.keyPrefix, source), lockWaitMs, async () => {
    const newer = await isSuperseded(deps.redis, deps.keyPrefix, build);
    if (newer) {
      const reason = `not deployed: ${supersededText(newer)}`;
      await end('cancelled', reason);
      trail.line(reason);
      await trail.state('superseded', supersededText(newer));
      return { outcome: 'superseded', reason: supersededText(newer) };
    }
    const record = await deps.previews.store.get(source);
    if (record?.closedAt !== undefined && record.closedAt >= Date.parse(build.receivedAt)) {
      const reason = `not deployed: pull request #${source.pullRequest} was closed`;
      await end('success', `built; ${reason}`);
      trail.line(reason);
      await trail.state('success', reason);
      return { outcome: 'not-deployed', reason };
    }

    const existing = await deps.gateway.list(source.namespace);
    const names = new Map(job.functions.map((f) => [f.name, previewName(f.name, source.pullRequest)]));
    // The owner's previews of other pull requests (and repositories) count; this one's are replaced.
    const others = existing.filter((fn) => isPreview(fn) && !isPreviewOf(fn, source, source.pullRequest)).length;
    const quota = deps.previews.settings.quota;
    const refuse = async (why: string, failures: Record<string, string>, perFunction?: (f: BuiltFunction) => string): Promise<DeployOutcome> => {
      log.info({ why }, 'preview refused');
      await end('failure', `preview not deployed: ${why}`, perFunction && ((f) => `preview not deployed: ${perFunction(f)}`));
      await comment(deps, source, [], `No preview for ${source.sha.slice(0, 7)}: ${why}`, log);
      trail.line(`FAILED: preview not deployed: ${why}`);
      await trail.state('failed', `preview not deployed: ${why}`);
      return { outcome: 'failed', failures, removed: [], ms: 0 };
    };
    if (others + job.functions.length > quota) {
      const why = `quota previewFunctions: ${source.namespace} would run ${others + job.functions.length} preview functions, the quota is ${quota} (GITFAAS_QUOTA_PREVIEW_FUNCTIONS)`;
      return refuse(why, { '(quota)': why });
    }
    const noSecret = await missingSecrets(job, deps.gateway);
    if (Object.keys(noSecret).length > 0) {
      const [first] = Object.entries(noSecret);
      return refuse(`${first[0]}: ${first[1]}`, noSecret, (f) => noSecret[f.name] ?? `${first[0]}: ${first[1]}`);
    }
    if (!(await claimDeploy(deps.redis, deps.keyPrefix, build))) {
      const reason = 'not deployed: a newer commit of this pull request is already deployed';
      await end('cancelled', reason);
      await trail.state('superseded', reason);
      return { outcome: 'superseded', reason };
    }

    const started = Date.now();
    const functions: PreviewFunction[] = job.functions.map((f) => ({ name: f.name, preview: names.get(f.name)!, url: deps.functionUrl(names.get(f.name)!, source.namespace), state: 'deploying' }));
    await deps.previews.store.pushed(source, functions);
    await comment(deps, source, functions, undefined, log);
    trail.line(`deploying previews ${[...names.values()].join(', ')} into namespace ${source.namespace}`);
    await trail.state('deploying');

    const failures: Record<string, string> = {};
    await Promise.all(
      job.functions.map(async (fn, i) => {
        const name = names.get(fn.name)!;
        const context = `${AGGREGATE_CONTEXT}/${fn.name}`;
        const url = functions[i]!.url!;
        try {
          const live = existing.find((e) => e.name === name);
          if (live && !isPreviewOf(live, source, source.pullRequest)) {
            throw new Error(`the name "${name}" is already taken in ${source.namespace} by a function that is not this pull request's preview: rename ${fn.name}`);
          }
          const deployment = toDeployment({ ...fn, name }, build);
          deployment.labels = { ...deployment.labels, ...previewLabels(source, fn.name) };
          const how = await deps.gateway.deploy(deployment);
          await waitUntilAnswering(deps.gateway, name, source.namespace, fn.image, deps.readyTimeoutMs);
          functions[i] = { ...functions[i]!, state: 'live' };
          trail.line(`[${fn.name}] preview live at ${url} (${how})`);
          await trail.fn(fn.name, { state: 'live', detail: url, image: fn.image });
          await report({ context, state: 'success', description: `preview live: ${name}`, targetUrl: url });
        } catch (err) {
          const { reason } = deployFailure((err as Error).message);
          failures[fn.name] = reason;
          functions[i] = { ...functions[i]!, state: 'failed', detail: reason };
          log.warn({ err, fn: fn.name }, 'preview deploy failed');
          trail.line(`[${fn.name}] preview FAILED: ${reason}`);
          await trail.fn(fn.name, { state: 'failed', detail: reason, image: fn.image });
          await report({ context, state: 'failure', description: fitDescription(`preview failed: ${reason}`), targetUrl: job.logUrl });
        }
      }),
    );

    // Previews of functions this push no longer lists go, as production's do on a push.
    const removed: string[] = [];
    const keep = new Set(names.values());
    for (const stale of (await deps.gateway.list(source.namespace)).filter((fn) => isPreviewOf(fn, source, source.pullRequest) && !keep.has(fn.name))) {
      await deps.gateway.remove(stale.name, source.namespace);
      removed.push(stale.name);
      trail.line(`removed preview ${stale.name}: no longer in stack.yml`);
    }

    await deps.previews.store.setFunctions(source, functions);
    await comment(deps, source, functions, undefined, log);
    const ms = Date.now() - started;
    const failed = Object.keys(failures);
    if (failed.length > 0) {
      const why = `preview failed for ${failed.join(', ')}: ${failures[failed[0]!]}`;
      await report({ context: AGGREGATE_CONTEXT, state: 'failure', description: fitDescription(why), targetUrl: job.logUrl });
      trail.line(`FAILED: ${why}`);
      await trail.state('failed', why);
      return { outcome: 'failed', failures, removed, ms };
    }
    const text = `${functions.length} preview(s) live`;
    await report({
      context: AGGREGATE_CONTEXT,
      state: 'success',
      description: text,
      targetUrl: job.logUrl ?? functions[0]?.url,
      details: { title: text, summary: functions.map((f) => `- ${f.name}: ${f.url}`).join('\n') },
    });
    trail.line(text);
    await trail.state('success', text);
    return { outcome: 'deployed', functions: functions.map((f) => f.preview), removed, ms };
  });
}

/** The sticky comment; a comment that cannot be written is logged, never fails the deploy. */
export async function comment(deps: { previews: PreviewDeps }, source: PrSource, functions: PreviewFunction[], note: string | undefined, log: Logger): Promise<void> {
  try {
    await deps.previews.commenter.upsert(source, previewComment({ sha: source.sha, functions, note }));
  } catch (err) {
    log.warn({ err }, 'preview comment not written');
  }
}
