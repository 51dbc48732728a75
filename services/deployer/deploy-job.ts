// One DeployJob: newest-commit-wins checks, then every function of the commit deployed in
// parallel through the gateway and waited for until it answers, then the repository's
// functions that stack.yml no longer lists removed; statuses per function and aggregate.
import type { Redis } from 'ioredis';
import type { BuildHistory, BuildState, FunctionResult } from '../../shared/build-history.js';
import type { BuildLog } from '../../shared/build-logs.js';
import type { DeployHistory } from '../../shared/deploy-history.js';
import type { BuiltFunction, DeployJob, SourceRef } from '../../shared/jobs.js';
import type { Logger } from '../../shared/logger.js';
import { AGGREGATE_CONTEXT, type StatusReporter, type StatusUpdate } from '../../shared/status.js';
import { claimDeploy, isSuperseded, seqKey, supersededText } from '../../shared/supersede.js';
import { tenancyProblems, type Quotas } from '../../shared/tenancy.js';
import { deployFailure, fitDescription } from './deploy-failure.js';
import type { FunctionStatus } from '../../shared/openfaas-types.js';
import type { GatewayClient } from '../../shared/gateway-client.js';
import { LABEL, heldByAnotherRepository, staleFunctions, toDeployment } from './deployment.js';
import { missingSecrets } from './missing-secrets.js';
import { deployPreviews, type PreviewDeps } from './preview-deploy.js';
import { isPreview } from './preview-name.js';
import { recordLive, rolledBack } from './rollback-hold.js';
import type { FunctionUrl } from './function-url.js';
import { waitUntilAnswering } from './readiness.js';
import { withRepoLock } from './repo-lock.js';

export interface DeployDeps {
  gateway: GatewayClient;
  redis: Redis;
  reporter: (source: SourceRef) => StatusReporter;
  /** The URL of a deployed function on statuses (function-url.ts). */
  functionUrl: FunctionUrl;
  /** The owner's quotas; functionsPerOwner is checked here, with the namespace's other repositories counted. */
  quotas: Quotas;
  readyTimeoutMs: number;
  keyPrefix: string;
  log: Logger;
  /** The build's record (shared/build-history.ts); the deploy's results go there. */
  history?: BuildHistory;
  /** Reopens the build's log by token: the deploy section and the outcome end it. */
  openLog?: (token: string) => BuildLog;
  /** What went live, for rollbacks, and the rollback hold (shared/deploy-history.ts). */
  deployHistory?: DeployHistory;
  /** Pull/merge request previews (preview-deploy.ts); without them a pull request is built only. */
  previews?: PreviewDeps;
}

export type DeployOutcome =
  | { outcome: 'deployed'; functions: string[]; removed: string[]; ms: number }
  | { outcome: 'failed'; failures: Record<string, string>; removed: string[]; ms: number }
  | { outcome: 'superseded'; reason: string }
  | { outcome: 'not-deployed'; reason: string };

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;


function stageSummary(stages: Record<string, number>, deployMs?: number): string {
  const all = { ...stages, ...(deployMs !== undefined ? { deploy: deployMs / 1000 } : {}) };
  const rows = Object.entries(all).map(([stage, s]) => `| ${stage} | ${s.toFixed(1)} s |`);
  return rows.length ? ['| stage | time |', '| --- | --- |', ...rows].join('\n') : 'no stage timings';
}

/**
 * The owner's quotas against what the namespace already runs: functions of OTHER
 * repositories count (this repository's are replaced or removed by this deploy).
 */
function quotaProblems(job: DeployJob, deps: DeployDeps, existing: FunctionStatus[]): string[] {
  const { source } = job.build;
  const names = new Set(job.functions.map((f) => f.name));
  // Previews count against their own allowance (preview-deploy.ts), not this one.
  const others = existing.filter(
    (fn) =>
      !isPreview(fn) &&
      !names.has(fn.name) &&
      !(fn.labels?.[LABEL.scm] === source.scm && fn.labels?.[LABEL.repoId] === String(source.repoId)),
  );
  return tenancyProblems({
    namespace: source.namespace,
    functions: job.functions,
    otherFunctionsOfOwner: others.length,
    quotas: deps.quotas,
  });
}

export type DeployTrail = ReturnType<typeof deployTrail>;

/** What a deploy leaves behind besides statuses: lines in the build log and the build's record. */
function deployTrail(job: DeployJob, deps: DeployDeps, log: Logger) {
  const buildLog = job.build.logToken && deps.openLog ? deps.openLog(job.build.logToken) : undefined;
  const id = job.build.buildId;
  const record = async (write: (history: BuildHistory) => Promise<void>) => {
    if (!id || !deps.history) return;
    await write(deps.history).catch((err) => log.warn({ err, buildId: id }, 'could not update the build history'));
  };
  return {
    line: (text: string) => buildLog?.line(text),
    fn: (name: string, result: FunctionResult) => record((h) => h.setFunction(id!, name, result)),
    stages: (stages: Record<string, number>) => record((h) => h.setStages(id!, stages)),
    state: (state: BuildState, reason?: string) => record((h) => h.setState(id!, state, reason)),
    end: async (outcome: string) => {
      await buildLog?.end(outcome).catch((err) => log.warn({ err }, 'could not write the build log'));
    },
  };
}

export async function runDeploy(job: DeployJob, deps: DeployDeps): Promise<DeployOutcome> {
  const log = deps.log.child({ repo: job.build.source.fullName, sha: job.build.source.sha, seq: job.build.seq });
  const trail = deployTrail(job, deps, log);
  const reporter = deps.reporter(job.build.source);
  // A status that cannot be sent must not stop a deploy; it is logged.
  const send = async (update: StatusUpdate) => {
    try {
      await reporter.report(job.build.source, update);
    } catch (err) {
      log.warn({ err, context: update.context }, 'status not sent');
    }
  };
  // The aggregate status's final state is sent after the build log has ended, so the log
  // it links to already holds the deploy's outcome when someone follows the link.
  let final: StatusUpdate | undefined;
  const report = async (update: StatusUpdate) => {
    if (update.context === AGGREGATE_CONTEXT && FINAL_STATES.has(update.state)) final = update;
    else await send(update);
  };
  let outcome: DeployOutcome | undefined;
  try {
    outcome = await deploy(job, deps, trail, report);
    return outcome;
  } catch (err) {
    trail.line(`FAILED: deploy error: ${(err as Error).message}`);
    await trail.state('failed', `deploy failed: ${(err as Error).message}`);
    throw err;
  } finally {
    await trail.end(`deploy ${outcome?.outcome ?? 'failed'}`);
    if (final) await send(final);
  }
}

const FINAL_STATES: ReadonlySet<StatusUpdate['state']> = new Set(['success', 'failure', 'cancelled']);

async function deploy(
  job: DeployJob,
  deps: DeployDeps,
  trail: ReturnType<typeof deployTrail>,
  report: (update: StatusUpdate) => Promise<void>,
): Promise<DeployOutcome> {
  const { build } = job;
  const { source } = build;
  const log = deps.log.child({ repo: source.fullName, sha: source.sha, seq: build.seq });
  const each = (fn: (f: BuiltFunction) => StatusUpdate) => Promise.all(job.functions.map((f) => report(fn(f))));

  if (build.kind === 'pull_request' && deps.previews && source.pullRequest !== undefined) {
    return deployPreviews(job, { ...deps, previews: deps.previews }, trail, report);
  }
  if (build.kind === 'pull_request') {
    const reason = 'built; pull requests are not deployed';
    await each((f) => ({ context: `${AGGREGATE_CONTEXT}/${f.name}`, state: 'success', description: `${reason}`, targetUrl: job.logUrl }));
    await report({ context: AGGREGATE_CONTEXT, state: 'success', description: `${job.functions.length} function(s) ${reason}`, targetUrl: job.logUrl });
    trail.line(reason);
    await trail.state('success', reason);
    return { outcome: 'not-deployed', reason };
  }

  const skipSuperseded = async (reason: string): Promise<DeployOutcome> => {
    log.info({ reason }, 'deploy skipped');
    // As the builder reports a superseded build: cancelled (not a failure), saying which commit replaced it.
    const description = `not deployed: ${reason}`;
    await each((f) => ({ context: `${AGGREGATE_CONTEXT}/${f.name}`, state: 'cancelled', description, targetUrl: job.logUrl }));
    await report({ context: AGGREGATE_CONTEXT, state: 'cancelled', description, targetUrl: job.logUrl });
    trail.line(`${description}: this deploy stops here`);
    await trail.state('superseded', reason);
    return { outcome: 'superseded', reason };
  };

  const lockKey = `${deps.keyPrefix}:deploy-lock:${seqKey(deps.keyPrefix, source)}`;
  const lockWaitMs = deps.readyTimeoutMs * 2 + 60_000;
  return withRepoLock(deps.redis, lockKey, lockWaitMs, async () => {
    const newer = await isSuperseded(deps.redis, deps.keyPrefix, build);
    if (newer) return skipSuperseded(supersededText(newer));
    const held = await rolledBack(job, deps);
    if (held) return skipSuperseded(held);
    // Read once: the quota and the names other repositories hold are checked against it.
    const existing = await deps.gateway.list(source.namespace);
    const problems = quotaProblems(job, deps, existing);
    if (problems.length > 0) {
      const reason = problems[0];
      log.info({ problems }, 'deploy refused: over quota');
      await each((f) => ({ context: `${AGGREGATE_CONTEXT}/${f.name}`, state: 'failure', description: `not deployed: ${reason}`, targetUrl: job.logUrl }));
      await report({
        context: AGGREGATE_CONTEXT,
        state: 'failure',
        description: `not deployed: ${reason}`,
        targetUrl: job.logUrl,
        details: { title: 'not deployed: over quota', summary: problems.map((p) => `- ${p}`).join('\n') },
      });
      trail.line(`FAILED: not deployed: ${problems.join('; ')}`);
      await trail.state('failed', `not deployed: ${reason}`);
      return { outcome: 'failed', failures: { '(quota)': reason }, removed: [], ms: 0 };
    }
    const noSecret = await missingSecrets(job, deps.gateway);
    if (Object.keys(noSecret).length > 0) {
      const [first] = Object.entries(noSecret);
      const reason = `${first[0]}: ${first[1]}`;
      log.info({ missing: noSecret }, 'deploy refused: missing secrets');
      await each((f) => ({ context: `${AGGREGATE_CONTEXT}/${f.name}`, state: 'failure', description: fitDescription(`not deployed: ${noSecret[f.name] ?? reason}`), targetUrl: job.logUrl }));
      await report({ context: AGGREGATE_CONTEXT, state: 'failure', description: fitDescription(`not deployed: ${reason}`), targetUrl: job.logUrl });
      trail.line(`FAILED: not deployed: ${Object.entries(noSecret).map(([fn, p]) => `${fn}: ${p}`).join('; ')}`);
      await trail.state('failed', `not deployed: ${reason}`);
      return { outcome: 'failed', failures: noSecret, removed: [], ms: 0 };
    }
    if (!(await claimDeploy(deps.redis, deps.keyPrefix, build))) return skipSuperseded('a newer commit is already deployed');

    const started = Date.now();
    trail.line(`deploying ${job.functions.map((f) => f.name).join(', ')} into namespace ${source.namespace}`);
    await trail.state('deploying');
    await each((f) => ({ context: `${AGGREGATE_CONTEXT}/${f.name}`, state: 'running', description: 'deploying', targetUrl: job.logUrl }));
    await report({ context: AGGREGATE_CONTEXT, state: 'running', description: `deploying ${job.functions.length} function(s)`, targetUrl: job.logUrl });

    const failures: Record<string, string> = {};
    await Promise.all(
      job.functions.map(async (fn) => {
        const fnLog = log.child({ fn: fn.name });
        const context = `${AGGREGATE_CONTEXT}/${fn.name}`;
        const t0 = Date.now();
        try {
          // Another repository's function of the same name is never replaced silently.
          const held = heldByAnotherRepository(existing, build, fn.name);
          if (held) throw new Error(held);
          const how = await deps.gateway.deploy(toDeployment(fn, build));
          const ready = await waitUntilAnswering(deps.gateway, fn.name, source.namespace, fn.image, deps.readyTimeoutMs);
          const url = deps.functionUrl(fn.name, source.namespace);
          fnLog.info({ how, readyMs: ready.ms }, 'function live');
          trail.line(`[${fn.name}] live at ${url} (${how}, answering after ${secs(Date.now() - t0)})`);
          await trail.fn(fn.name, { state: 'live', detail: url, image: fn.image });
          const built = fn.buildSeconds !== undefined ? `built in ${fn.buildSeconds.toFixed(1)} s, ` : '';
          await report({
            context,
            state: 'success',
            description: `live: ${built}deployed in ${secs(Date.now() - t0)}`,
            targetUrl: url,
            details: { title: `${fn.name} is live`, summary: `${url}\n\n${stageSummary(job.stages, Date.now() - t0)}` },
          });
        } catch (err) {
          const { reason, output } = deployFailure((err as Error).message);
          failures[fn.name] = reason;
          fnLog.warn({ err }, 'deploy failed');
          trail.line(`[${fn.name}] FAILED: ${reason}`);
          if (output.length) trail.line(`[${fn.name}] its output:`);
          for (const line of output) trail.line(`[${fn.name}]   ${line}`);
          await trail.fn(fn.name, { state: 'failed', detail: reason, image: fn.image });
          const outputBlock = output.length ? `\n\n\`\`\`\n${output.join('\n')}\n\`\`\`` : '';
          await report({
            context,
            state: 'failure',
            description: fitDescription(`deploy failed: ${reason}`),
            targetUrl: job.logUrl,
            details: { title: `${fn.name}: deploy failed`, summary: `${reason}${outputBlock}\n\n${stageSummary(job.stages, Date.now() - t0)}` },
          });
        }
      }),
    );

    // Only a fully deployed commit removes what it no longer lists.
    const removed: string[] = [];
    if (Object.keys(failures).length === 0) {
      try {
        const keep = new Set(job.functions.map((f) => f.name));
        for (const stale of staleFunctions(await deps.gateway.list(source.namespace), build, keep)) {
          await deps.gateway.remove(stale.name, source.namespace);
          removed.push(stale.name);
          log.info({ fn: stale.name }, 'removed: no longer in stack.yml');
          trail.line(`removed ${stale.name}: no longer in stack.yml`);
        }
      } catch (err) {
        failures['(cleanup)'] = `removing functions no longer in stack.yml failed: ${(err as Error).message}`;
        log.warn({ err }, 'garbage collection failed');
      }
    }

    const ms = Date.now() - started;
    await trail.stages({ ...job.stages, deploy: ms / 1000 });
    const failed = Object.keys(failures);
    if (failed.length > 0) {
      const first = failures[failed[0]];
      await report({
        context: AGGREGATE_CONTEXT,
        state: 'failure',
        description: fitDescription(`deploy failed for ${failed.join(', ')}: ${first}`),
        targetUrl: job.logUrl,
        details: {
          title: `deploy failed for ${failed.join(', ')}`,
          summary: `${failed.map((f) => `- ${f}: ${failures[f]}`).join('\n')}\n\n${stageSummary(job.stages, ms)}`,
        },
      });
      trail.line(`FAILED: deploy failed for ${failed.join(', ')}: ${first}`);
      await trail.state('failed', `deploy failed for ${failed.join(', ')}: ${first}`);
      return { outcome: 'failed', failures, removed, ms };
    }
    const names = job.functions.map((f) => f.name);
    const gone = removed.length ? `; removed ${removed.join(', ')}` : '';
    await report({
      context: AGGREGATE_CONTEXT,
      state: 'success',
      description: `${names.length} function(s) live in ${secs(ms)}${gone}`,
      // The build log ends with what went live where; each function's own status links its URL.
      targetUrl: job.logUrl ?? (names.length ? deps.functionUrl(names[0], source.namespace) : undefined),
      details: {
        title: `${names.length} function(s) live`,
        summary: `${names.map((n) => `- ${deps.functionUrl(n, source.namespace)}`).join('\n')}${gone ? `\n\nRemoved: ${removed.join(', ')}` : ''}\n\n${stageSummary(job.stages, ms)}`,
      },
    });
    trail.line(`${names.length} function(s) live in ${secs(ms)}${gone}`);
    await trail.state('success', `${names.length} function(s) live${gone}`);
    await recordLive(job, deps, log);
    return { outcome: 'deployed', functions: names, removed, ms };
  });
}
