// One build job: the whole path of a commit through the builder. Supersede check, clone,
// stack.yml, every function's build (in parallel up to a limit), supersede check again,
// then a deploy job (push) or success statuses (pull request). Every way out reports
// statuses, with the build log's URL on failure, and ends the log.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { BuildHistory, newBuildId, type FunctionResult } from '../../shared/build-history.js';
import { BuildLog, buildLogUrl } from '../../shared/build-logs.js';
import type { GitOrigins } from '../../shared/git-origins.js';
import type { BuildJob, BuiltFunction, DeployJob } from '../../shared/jobs.js';
import type { Logger } from '../../shared/logger.js';
import { resolveInRepo } from '../../shared/stack.js';
import type { Quotas } from '../../shared/tenancy.js';
import { AGGREGATE_CONTEXT, type StatusReporter, type StatusUpdate } from '../../shared/status.js';
import { isSuperseded, supersededText } from '../../shared/supersede.js';
import type { Verified } from '../../shared/verify-repository.js';
import { buildFunction, formatDuration, FunctionFailure, planFunction, type FunctionBuilt, type FunctionPlan } from './build-function.js';
import { cloneCommit } from './clone.js';
import { pullTemplates } from './git-templates.js';
import { readStack } from './stack-read.js';
import type { ImageBuilder } from './engine-build.js';
import type { NpmSettings } from './npm-deps.js';
import type { BaseImages } from './templates.js';
import type { WorkLimits } from './work-limits.js';
import { trustSource } from './trusted-source.js';
import { workDirFor } from './work-dirs.js';

export interface BuildCommitDeps {
  redis: Redis;
  /** GITFAAS_QUEUE_PREFIX: every Redis key of this instance sits under it. */
  keyPrefix: string;
  /** The build's record: state, stage timings, per-function results (shared/build-history.ts). */
  history: BuildHistory;
  reporter: StatusReporter;
  builder: ImageBuilder;
  enqueueDeploy: (job: DeployJob) => Promise<void>;
  /** Username and token to clone a private repository with, if any (shared/status-router.ts). */
  cloneCredentials?: (source: BuildJob['source']) => Promise<{ username: string; password: string } | undefined>;
  /** Asks the git host whether the repository id is what the event names (shared/verify-repository.ts). */
  verifyRepository?: (source: BuildJob['source']) => Promise<Verified>;
  log: Logger;
  stopSignal?: AbortSignal;
  settings: {
    stateDir: string;
    /** Where clone URLs may point (GITHUB_URL, GITLAB_URL, GITFAAS_GIT_HOSTS). */
    gitOrigins: GitOrigins;
    registry: string;
    parallelism: number;
    buildTimeoutMs: number;
    baseImages: BaseImages;
    /** GITFAAS_BUILD_ALLOWED_IMAGES (dockerfile-policy.ts). */
    allowedImages: string[];
    limits: WorkLimits;
    buildLogTtlMs: number;
    publicUrl: string;
    /** The owner's quotas: stack.yml is checked against them, default limits come from them. */
    quotas: Quotas;
    npm: NpmSettings;
    pipIndexUrl?: string;
  };
}

export type BuildOutcome =
  | { outcome: 'deploying'; functions: BuiltFunction[]; logUrl: string; stages: Record<string, number> }
  | { outcome: 'built'; functions: BuiltFunction[]; logUrl: string }
  | { outcome: 'superseded'; by: string; logUrl: string }
  | { outcome: 'failed'; reason: string; permanent: boolean; logUrl: string };

/** Runs items through fn with at most `limit` at a time; results keep the items' order. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]).then(
        (value) => ({ status: 'fulfilled', value }) as const,
        (reason) => ({ status: 'rejected', reason }) as const,
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

const fnContext = (name: string) => `${AGGREGATE_CONTEXT}/${name}`;

function short(text: string, max = 139): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}

export async function buildCommit(job: BuildJob, deps: BuildCommitDeps): Promise<BuildOutcome> {
  const { source } = job;
  const { settings } = deps;
  const log = deps.log.child({ repo: source.fullName, sha: source.sha, kind: job.kind, seq: job.seq });
  // The receiver chose the log's token (its 202 names the URL); jobs from elsewhere get one here.
  const buildLog = new BuildLog(deps.redis, deps.keyPrefix, settings.buildLogTtlMs, job.logToken);
  const logUrl = buildLogUrl(settings.publicUrl, buildLog.token);
  const buildId = job.buildId ?? newBuildId();
  const tracked: BuildJob = { ...job, buildId, logToken: buildLog.token };
  // The history must never fail a build: a write that fails is logged and the build goes on.
  const record = async (write: (history: BuildHistory) => Promise<void>) => {
    try {
      await write(deps.history);
    } catch (err) {
      log.warn({ err, buildId }, 'could not update the build history');
    }
  };
  const recordFunction = (name: string, result: FunctionResult) => record((h) => h.setFunction(buildId, name, result));
  const workDir = workDirFor(path.join(settings.stateDir, 'builds'), source.sha);
  const started = Date.now();
  const stages: Record<string, number> = {};

  const report = async (update: StatusUpdate) => {
    try {
      await deps.reporter.report(source, { ...update, description: short(update.description) });
    } catch (err) {
      log.warn({ err, context: update.context, state: update.state }, 'could not report a status');
    }
  };
  let functionNames: string[] = [];
  const stageSummary = () =>
    Object.entries(stages)
      .map(([stage, seconds]) => `${stage}: ${seconds.toFixed(1)} s`)
      .join(', ');
  const fail = async (reason: string, permanent: boolean, perFunction: Record<string, string> = {}, details: string[] = []): Promise<BuildOutcome> => {
    buildLog.line(`FAILED: ${reason}`);
    for (const d of details) buildLog.line(`  - ${d}`);
    // The statuses link the log: it must hold these lines before they are sent.
    await buildLog.flush();
    const summary = [details.length > 0 ? details.map((d) => `- ${d}`).join('\n') : reason, stageSummary()].filter(Boolean).join('\n\n');
    const text = `Build log (last lines; full log: ${logUrl}):\n\n\`\`\`\n${buildLog.tail().join('\n')}\n\`\`\``;
    for (const name of functionNames) {
      await report({ context: fnContext(name), state: 'failure', description: perFunction[name] ?? `not deployed: ${reason}`, targetUrl: logUrl });
    }
    await report({ context: AGGREGATE_CONTEXT, state: 'failure', description: reason, targetUrl: logUrl, details: { title: short(reason, 255), summary, text } });
    await record((h) => h.setStages(buildId, stages));
    for (const name of functionNames) await recordFunction(name, { state: 'failed', detail: perFunction[name] ?? `not deployed: ${reason}` });
    await record((h) => h.setState(buildId, 'failed', reason));
    log.info({ reason, permanent, buildId, logUrl }, 'build failed');
    return { outcome: 'failed', reason, permanent, logUrl };
  };
  const superseded = async (): Promise<BuildOutcome | undefined> => {
    const by = await isSuperseded(deps.redis, deps.keyPrefix, job);
    if (!by) return undefined;
    const text = supersededText(by);
    buildLog.line(`${text}: this build stops here`);
    for (const name of functionNames) await report({ context: fnContext(name), state: 'cancelled', description: text, targetUrl: logUrl });
    await report({ context: AGGREGATE_CONTEXT, state: 'cancelled', description: text, targetUrl: logUrl });
    await record((h) => h.setState(buildId, 'superseded', text));
    log.info({ by: by.sha }, 'superseded');
    return { outcome: 'superseded', by: text, logUrl };
  };

  buildLog.line(`gitfaas build of ${source.fullName} ${source.sha} (${job.kind}${source.pullRequest ? ` #${source.pullRequest}` : ''}, branch ${source.branch})`);
  let outcome: BuildOutcome | undefined;
  try {
    if (!job.buildId) await record((h) => h.create(tracked as BuildJob & { buildId: string }, logUrl));
    await record((h) => h.setState(buildId, 'building'));
    log.info({ buildId, logUrl }, `building; log at ${logUrl}`);
    outcome = await superseded();
    if (outcome) return outcome;
    await report({ context: AGGREGATE_CONTEXT, state: 'pending', description: 'building: cloning', targetUrl: logUrl });

    let t = Date.now();
    const repoDir = path.join(workDir, 'repo');
    const trusted = await trustSource(source, {
      origins: settings.gitOrigins,
      verifyRepository: deps.verifyRepository,
      cloneCredentials: deps.cloneCredentials,
      note: (line) => buildLog.line(line),
    });
    if (!trusted.ok) return (outcome = await fail(trusted.reason, trusted.permanent));
    const { credentials } = trusted;
    try {
      buildLog.line(`cloning ${source.cloneUrl} at ${source.sha}${credentials ? ' (with credentials)' : ''}`);
      await cloneCommit({
        url: source.cloneUrl,
        sha: source.sha,
        dir: repoDir,
        credentials,
        timeoutMs: settings.buildTimeoutMs,
      });
    } catch (err) {
      return (outcome = await fail((err as Error).message, false));
    }
    stages.clone = (Date.now() - t) / 1000;

    // Off the event loop: the process may be serving every other service too.
    const { stack, environments } = await readStack({ repoDir, namespace: source.namespace, quotas: settings.quotas, limits: settings.limits });
    // Every problem knowable from the checkout is found before anything is built, the
    // functions that fit the schema checked against the checkout even when others do not.
    const declared = stack.ok ? stack.stack.functions : (stack.functions ?? {});
    const problems: Record<string, string[]> = stack.ok ? {} : { '(stack.yml)': stack.problems };
    if (stack.ok) {
      functionNames = Object.keys(declared);
      buildLog.line(`${stack.file}: ${functionNames.length} function(s): ${functionNames.join(', ')}`);
    }

    // configuration.templates from git, on the build's own git host's origins, without credentials.
    const pulled = await pullTemplates((stack.ok && stack.stack.configuration?.templates) || [], {
      origins: settings.gitOrigins[source.scm],
      cacheDir: path.join(settings.stateDir, 'templates'),
      timeoutMs: settings.buildTimeoutMs,
      limits: settings.limits,
      note: (line) => buildLog.line(line),
    });
    if (pulled.transient) return (outcome = await fail(pulled.transient, false));
    if (pulled.problems.length > 0) (problems['(configuration)'] ??= []).push(...pulled.problems);
    const plans: FunctionPlan[] = [];
    for (const name of Object.keys(declared)) {
      const planned = await planFunction(repoDir, name, declared[name], environments[name], settings.limits, pulled);
      if ('plan' in planned) plans.push(planned.plan);
      else (problems[name] ??= []).push(...planned.problems);
    }
    const extraPaths: Array<{ rel: string; real: string }> = [];
    for (const [i, rel] of ((stack.ok && stack.stack.configuration?.copy) || []).entries()) {
      try {
        extraPaths.push({ rel: path.normalize(rel), real: await resolveInRepo(repoDir, rel, `configuration.copy[${i}]`) });
      } catch (err) {
        (problems['(configuration)'] ??= []).push((err as Error).message);
      }
    }
    const all = [...new Set(Object.values(problems).flat())];
    if (!stack.ok) {
      const n = all.length;
      const first = all[0].split('\n')[0];
      return (outcome = await fail(n === 1 ? first : `stack.yml has ${n} problems: ${first} (+${n - 1} more)`, true, {}, all));
    }
    if (all.length > 0) {
      const perFunction = Object.fromEntries(Object.entries(problems).map(([name, p]) => [name, p[0].replace(/^functions\.[^.]+\./, '')]));
      for (const name of functionNames) perFunction[name] ??= 'not built: other functions in stack.yml have problems';
      return (outcome = await fail(`${all.length} problem${all.length === 1 ? '' : 's'} in stack.yml: ${all[0]}${all.length > 1 ? ` (+${all.length - 1} more)` : ''}`, true, perFunction, all));
    }

    for (const name of functionNames) {
      await report({ context: fnContext(name), state: 'running', description: 'building', targetUrl: logUrl });
      await recordFunction(name, { state: 'building' });
    }
    await report({ context: AGGREGATE_CONTEXT, state: 'running', description: `building ${functionNames.length} function(s)`, targetUrl: logUrl });

    t = Date.now();
    const results = await mapLimit(plans, settings.parallelism, (plan) =>
      buildFunction({
        plan,
        workDir,
        extraPaths,
        registry: settings.registry,
        namespace: source.namespace,
        quotas: settings.quotas,
        sha: source.sha,
        imageLabels: {
          'org.opencontainers.image.revision': source.sha,
          'org.opencontainers.image.source': source.fullName,
        },
        baseImages: settings.baseImages,
        allowedImages: settings.allowedImages,
        npm: settings.npm,
        pipIndexUrl: settings.pipIndexUrl,
        builder: deps.builder,
        timeoutMs: settings.buildTimeoutMs,
        stopSignal: deps.stopSignal,
        log: (line) => buildLog.line(`[${plan.name}] ${line}`),
      }),
    );
    stages.build = (Date.now() - t) / 1000;
    const built: FunctionBuilt[] = [];
    const failures: FunctionFailure[] = [];
    for (const r of results) {
      if (r.status === 'fulfilled') built.push(r.value);
      else failures.push(r.reason instanceof FunctionFailure ? r.reason : new FunctionFailure('?', String(r.reason?.message ?? r.reason), false));
    }
    if (failures.length > 0) {
      const perFunction: Record<string, string> = {};
      for (const f of failures) perFunction[f.fn] = f.reason;
      for (const b of built) perFunction[b.fn.name] = 'built, not deployed: another function failed';
      const first = failures[0];
      const reason = failures.length === 1 ? `${first.fn}: ${first.reason}` : `${failures.length} functions failed; ${first.fn}: ${first.reason}`;
      return (outcome = await fail(reason, failures.every((f) => f.permanent), perFunction, failures.map((f) => f.message)));
    }
    stages.push = Math.max(0, ...built.map((b) => b.pushMs / 1000));
    await record((h) => h.setStages(buildId, stages));
    for (const b of built) await recordFunction(b.fn.name, { state: 'built', image: b.fn.image });

    outcome = await superseded();
    if (outcome) return outcome;

    const functions = built.map((b) => b.fn);
    const took = formatDuration(Date.now() - started);
    // A pull request's build goes to the deployer too: it decides whether the pull request
    // gets previews (services/deployer/preview-deploy.ts) and ends the statuses either way.
    const deploying = job.kind === 'pull_request' ? 'deploying preview' : 'deploying';
    for (const b of built) {
      await report({ context: fnContext(b.fn.name), state: 'running', description: `built in ${formatDuration(b.buildMs + b.pushMs)}, ${deploying}`, targetUrl: logUrl });
    }
    await report({
      context: AGGREGATE_CONTEXT,
      state: 'running',
      description: `built in ${took}, ${deploying}`,
      targetUrl: logUrl,
      details: { title: `built in ${took}, ${deploying}`, summary: stageSummary() },
    });
    await record((h) => h.setDeployable(buildId, functions));
    await record((h) => h.setState(buildId, 'deploying'));
    await deps.enqueueDeploy({ build: tracked, functions, logUrl, stages });
    buildLog.line(`built in ${took}; deploy queued for ${functions.map((f) => f.name).join(', ')}`);
    log.info({ functions: functions.map((f) => f.name), stages }, 'built; deploy queued');
    return (outcome = { outcome: 'deploying', functions, logUrl, stages });
  } catch (err) {
    log.error({ err }, 'build error');
    return (outcome = await fail(`builder error: ${short((err as Error).message ?? String(err), 100)}`, false));
  } finally {
    await rm(workDir, { recursive: true, force: true }).catch((err) => log.warn({ err, workDir }, 'could not remove the work directory'));
    // A deploy goes on in the deployer, which writes its section and ends the log.
    const ending = outcome?.outcome === 'deploying' ? buildLog.flush() : buildLog.end(`build ${outcome?.outcome ?? 'ended'}`);
    await ending.catch((err) => log.warn({ err }, 'could not write the build log'));
  }
}
