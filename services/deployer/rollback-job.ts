// One RollbackJob: a repository's functions (or one of them) back to an earlier deploy of
// its history, through the gateway's rolling update (PUT /system/functions: new replicas
// answer before old ones go), under the same per-branch lock as deploys. The rollback then
// holds (shared/deploy-history.ts): deploys of events numbered before it are refused until
// a new push to the default branch. The commits that stop being live are told so.
import type { Redis } from 'ioredis';
import { DeployHistory, type DeployRecord } from '../../shared/deploy-history.js';
import type { BuildJob, RollbackJob, RollbackResult } from '../../shared/jobs.js';
import type { Logger } from '../../shared/logger.js';
import { AGGREGATE_CONTEXT, type StatusReporter } from '../../shared/status.js';
import { seqKey } from '../../shared/supersede.js';
import { toDeployment } from './deployment.js';
import type { GatewayClient } from '../../shared/gateway-client.js';
import { waitUntilAnswering } from './readiness.js';
import { withRepoLock } from './repo-lock.js';

export interface RollbackDeps {
  gateway: GatewayClient;
  redis: Redis;
  deployHistory: DeployHistory;
  reporter: StatusReporter;
  readyTimeoutMs: number;
  keyPrefix: string;
  log: Logger;
}

const short = (sha: string) => sha.slice(0, 7);

/** The deploy to go back to: the named commit, or the newest one older than what is live. */
function pickTarget(records: DeployRecord[], job: RollbackJob): DeployRecord | string {
  const holds = (r: DeployRecord) => !job.function || r.functions.some((f) => f.name === job.function);
  const candidates = records.filter(holds);
  if (candidates.length === 0) {
    return job.function ? `no deploy of function ${job.function} in the deploy history of ${job.fullName}` : `no deploy of ${job.fullName} in the deploy history`;
  }
  if (job.sha) {
    const found = candidates.find((r) => r.sha.startsWith(job.sha!));
    return found ?? `commit ${job.sha} is not in the deploy history of ${job.fullName}${job.function ? ` for ${job.function}` : ''} (GET /system/deploys lists it)`;
  }
  const liveSha = candidates[0].sha;
  return candidates.find((r) => r.sha !== liveSha) ?? `only one commit (${short(liveSha)}) in the deploy history of ${job.fullName}: nothing to roll back to`;
}

export async function runRollback(job: RollbackJob, deps: RollbackDeps): Promise<RollbackResult> {
  const log = deps.log.child({ repo: job.fullName, sha: job.sha, fn: job.function });
  const repo = { scm: job.scm, repoId: job.repoId };
  const records = await deps.deployHistory.list(repo);
  const target = pickTarget(records, job);
  if (typeof target === 'string') return { ok: false, error: target, functions: [], live: {} };
  const { source } = target;
  const lockKey = `${deps.keyPrefix}:deploy-lock:${seqKey(deps.keyPrefix, source)}`;
  return withRepoLock(deps.redis, lockKey, deps.readyTimeoutMs * 2 + 60_000, async () => {
    // Read again under the lock: a deploy may have finished while we waited for it.
    const before = await deps.deployHistory.live(repo);
    const functions = target.functions.filter((f) => !job.function || f.name === job.function);
    const failures: string[] = [];
    await Promise.all(
      functions.map(async (fn) => {
        try {
          await deps.gateway.deploy(toDeployment(fn, { source } as BuildJob));
          await waitUntilAnswering(deps.gateway, fn.name, source.namespace, fn.image, deps.readyTimeoutMs);
        } catch (err) {
          failures.push(`${fn.name}: ${(err as Error).message}`);
        }
      }),
    );
    if (failures.length > 0) {
      log.warn({ failures }, 'rollback failed');
      return { ok: false, error: `rollback to ${short(target.sha)} failed: ${failures.join('; ')}`, functions: functions.map((f) => f.name), live: {} };
    }
    const seq = Number((await deps.redis.get(seqKey(deps.keyPrefix, source))) ?? 0);
    await deps.deployHistory.setHold(repo, { sha: target.sha, seq, at: new Date().toISOString() });
    const fromShas = new Set(functions.map((f) => before.get(f.name)?.sha).filter((s): s is string => !!s && s !== target.sha));
    await deps.deployHistory.record({
      sha: target.sha,
      ...(target.buildId ? { buildId: target.buildId } : {}),
      at: new Date().toISOString(),
      source,
      functions,
      rollbackFrom: [...fromShas].join(',') || target.sha,
    });
    log.info({ to: target.sha, functions: functions.map((f) => f.name) }, 'rolled back');
    await tellCommits(deps, target, functions.map((f) => f.name), before, !job.function);

    const live: Record<string, string> = {};
    for (const [name, record] of await deps.deployHistory.live(repo)) live[name] = record.sha;
    return { ok: true, sha: target.sha, functions: functions.map((f) => f.name), live };
  });
}

/** The commits that stopped being live say so; the one rolled back to says it is live again. */
async function tellCommits(deps: RollbackDeps, target: DeployRecord, names: string[], before: Map<string, DeployRecord>, wholeSet: boolean) {
  const report = (record: DeployRecord, context: string, state: 'success' | 'cancelled', description: string) =>
    deps.reporter
      .report(record.source, { context, state, description })
      .catch((err) => deps.log.warn({ err, sha: record.sha, context }, 'status not sent'));
  const replaced = new Map<string, DeployRecord>();
  for (const name of names) {
    const previous = before.get(name);
    if (!previous || previous.sha === target.sha) continue;
    replaced.set(previous.sha, previous);
    await report(previous, `${AGGREGATE_CONTEXT}/${name}`, 'cancelled', `no longer live: rolled back to ${short(target.sha)}`);
  }
  for (const previous of replaced.values()) {
    if (wholeSet) await report(previous, AGGREGATE_CONTEXT, 'cancelled', `no longer live: rolled back to ${short(target.sha)}`);
  }
  const from = [...replaced.keys()].map(short).join(', ');
  if (from) {
    for (const name of names) await report(target, `${AGGREGATE_CONTEXT}/${name}`, 'success', `live again: rolled back from ${from}`);
    if (wholeSet) await report(target, AGGREGATE_CONTEXT, 'success', `live again: rolled back from ${from}`);
  }
}
