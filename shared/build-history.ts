// The build history: one record per build in Redis, written by the webhook receiver (queued),
// the builder (building, stage timings, per-function results) and the deployer (deploying,
// the outcome), and read by anything holding a Redis client (the admin builds API on the
// webhooks service, the dashboard, the reconciler). It survives restarts (Redis's
// append-only file) and lives GITFAAS_BUILD_HISTORY_TTL (30 days by default) after its
// last change. docs/builds.md describes the records and the API.
//
// Keys, all under the queue prefix P (GITFAAS_QUEUE_PREFIX):
//   P:build:<id>                    hash, one build (fields below; fn:<name> and stage:<name> per function/stage)
//   P:builds:repo:<scm>:<repoId>    sorted set of build ids by creation time (ms)
//   P:builds:recent                 sorted set of every build id by creation time (ms)
//   P:repos                         hash "<scm>:<repoId>" -> KnownRepository JSON (no expiry:
//                                   the reconciler must know a repository however quiet it is)
//
// Each field of a record is its own hash field, so the builder and the deployer update
// their parts with HSET and never overwrite each other's (no read-modify-write).
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { BuiltFunction, type BuildJob, Scm, type SourceRef } from './jobs.js';

export const DEFAULT_BUILD_HISTORY_TTL_MS = 30 * 24 * 3600 * 1000;

export const BuildState = z.enum(['queued', 'building', 'deploying', 'success', 'failed', 'superseded']);
export type BuildState = z.infer<typeof BuildState>;

/** What started a build: a webhook delivery, or the admin API. */
export const BuildTrigger = z.enum(['webhook', 'rebuild', 'redeploy']);
export type BuildTrigger = z.infer<typeof BuildTrigger>;

export const FunctionResult = z.object({
  state: z.enum(['building', 'built', 'deploying', 'live', 'failed', 'not-deployed']),
  /** The reason of a failure, or "live at <url>". */
  detail: z.string().optional(),
  /** The image by digest, once built. */
  image: z.string().optional(),
});
export type FunctionResult = z.infer<typeof FunctionResult>;

/**
 * One build, as the reader API returns it. Times are ISO 8601; stage timings are seconds
 * (clone, build, push, deploy) as far as the build got.
 */
export interface BuildRecord {
  id: string;
  repository: { scm: SourceRef['scm']; owner: string; name: string; fullName: string; repoId: number; namespace: string };
  sha: string;
  branch: string;
  pullRequest?: number;
  kind: BuildJob['kind'];
  /** The login that pushed (or opened the pull request), when the host said. */
  pushedBy?: string;
  seq: number;
  trigger: BuildTrigger;
  state: BuildState;
  /** Why it failed or was superseded; for success, what went live. */
  reason?: string;
  stages: Record<string, number>;
  functions: Record<string, FunctionResult>;
  logUrl: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  updatedAt: string;
}

/** What the reconciler needs to rebuild a repository without a webhook. */
export const KnownRepository = z.object({
  scm: Scm,
  owner: z.string(),
  repo: z.string(),
  fullName: z.string(),
  repoId: z.number().int(),
  cloneUrl: z.string(),
  private: z.boolean(),
  defaultBranch: z.string(),
  namespace: z.string(),
  installationId: z.number().int().optional(),
  /** The last time an event of this repository was accepted. */
  lastSeenAt: z.string(),
});
export type KnownRepository = z.infer<typeof KnownRepository>;

/** The repository's default branch at `sha`, as a build's source (admin rebuilds, the reconciler). */
export function defaultBranchSource(repo: KnownRepository, sha: string): SourceRef {
  return {
    scm: repo.scm,
    owner: repo.owner,
    repo: repo.repo,
    fullName: repo.fullName,
    repoId: repo.repoId,
    cloneUrl: repo.cloneUrl,
    private: repo.private,
    sha,
    branch: repo.defaultBranch,
    defaultBranch: repo.defaultBranch,
    namespace: repo.namespace,
    ...(repo.installationId !== undefined ? { installationId: repo.installationId } : {}),
  };
}

/** Short, time-ordered, unguessable enough to not collide: "b" + ms in base 36 + 6 random hex. */
export function newBuildId(now = Date.now()): string {
  return `b${now.toString(36)}${randomBytes(3).toString('hex')}`;
}

const BUILD_ID = /^b[0-9a-z]{6,12}[0-9a-f]{6}$/;
export const isBuildId = (id: string) => BUILD_ID.test(id);

export const repositoryKey = (source: Pick<SourceRef, 'scm' | 'repoId'>) => `${source.scm}:${source.repoId}`;

const TERMINAL: ReadonlySet<BuildState> = new Set(['success', 'failed', 'superseded']);

export class BuildHistory {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlMs = DEFAULT_BUILD_HISTORY_TTL_MS,
  ) {}

  private buildKey(id: string) {
    return `${this.prefix}:build:${id}`;
  }
  private repoIndexKey(source: Pick<SourceRef, 'scm' | 'repoId'>) {
    return `${this.prefix}:builds:repo:${repositoryKey(source)}`;
  }
  private get recentKey() {
    return `${this.prefix}:builds:recent`;
  }
  private get reposKey() {
    return `${this.prefix}:repos`;
  }

  /** A new record in state "queued", indexed under its repository; the repository is remembered. */
  async create(job: BuildJob & { buildId: string }, logUrl: string, trigger: BuildTrigger = 'webhook'): Promise<void> {
    const { source } = job;
    const now = Date.now();
    const fields: Record<string, string> = {
      id: job.buildId,
      scm: source.scm,
      owner: source.owner,
      repo: source.repo,
      fullName: source.fullName,
      repoId: String(source.repoId),
      namespace: source.namespace,
      sha: source.sha,
      branch: source.branch,
      kind: job.kind,
      seq: String(job.seq),
      trigger,
      state: 'queued',
      logUrl,
      createdAt: new Date(now).toISOString(),
      updatedAt: new Date(now).toISOString(),
    };
    if (source.pullRequest !== undefined) fields.pullRequest = String(source.pullRequest);
    if (job.pushedBy) fields.pushedBy = job.pushedBy;
    const key = this.buildKey(job.buildId);
    const oldest = now - this.ttlMs;
    const repo: KnownRepository = {
      scm: source.scm,
      owner: source.owner,
      repo: source.repo,
      fullName: source.fullName,
      repoId: source.repoId,
      cloneUrl: source.cloneUrl,
      private: source.private,
      defaultBranch: source.defaultBranch,
      namespace: source.namespace,
      ...(source.installationId !== undefined ? { installationId: source.installationId } : {}),
      lastSeenAt: new Date(now).toISOString(),
    };
    const pipeline = this.redis.multi().hset(key, fields).pexpire(key, this.ttlMs);
    for (const index of [this.repoIndexKey(source), this.recentKey]) {
      pipeline.zadd(index, now, job.buildId).zremrangebyscore(index, '-inf', oldest).pexpire(index, this.ttlMs);
    }
    // A pull request from a fork clones from the fork: only the base repository's own
    // events say where to rebuild its default branch from.
    if (job.kind === 'push') pipeline.hset(this.reposKey, repositoryKey(source), JSON.stringify(repo));
    else pipeline.hsetnx(this.reposKey, repositoryKey(source), JSON.stringify(repo));
    await exec(pipeline);
  }

  /** Removes a record created for a job that turned out to exist already. */
  async discard(id: string, source: Pick<SourceRef, 'scm' | 'repoId'>): Promise<void> {
    await exec(this.redis.multi().del(this.buildKey(id)).zrem(this.repoIndexKey(source), id).zrem(this.recentKey, id));
  }

  /** Moves a build to another state (with the reason); a terminal state also sets finishedAt. */
  async setState(id: string, state: BuildState, reason?: string): Promise<void> {
    const now = new Date().toISOString();
    const fields: Record<string, string> = { state, updatedAt: now };
    if (reason !== undefined) fields.reason = reason;
    if (state === 'building') fields.startedAt = now;
    if (TERMINAL.has(state)) fields.finishedAt = now;
    await this.write(id, fields);
  }

  /** Seconds a stage took (clone, build, push, deploy). */
  async setStages(id: string, stages: Record<string, number>): Promise<void> {
    const fields = Object.fromEntries(Object.entries(stages).map(([stage, s]) => [`stage:${stage}`, String(Math.round(s * 1000) / 1000)]));
    if (Object.keys(fields).length > 0) await this.write(id, fields);
  }

  async setFunction(id: string, name: string, result: FunctionResult): Promise<void> {
    await this.write(id, { [`fn:${name}`]: JSON.stringify(result) });
  }

  /** What the deployer was handed: kept so that the admin API can redeploy exactly this. */
  async setDeployable(id: string, functions: BuiltFunction[]): Promise<void> {
    await this.write(id, { deploy: JSON.stringify(functions) });
  }

  /** The functions a successful build deployed, for a redeploy. */
  async deployable(id: string): Promise<BuiltFunction[] | undefined> {
    const raw = await this.redis.hget(this.buildKey(id), 'deploy');
    if (!raw) return undefined;
    const parsed = z.array(BuiltFunction).safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  }

  async get(id: string): Promise<BuildRecord | undefined> {
    if (!isBuildId(id)) return undefined;
    return toRecord(await this.redis.hgetall(this.buildKey(id)));
  }

  /** The newest builds first: of one repository, or of all. */
  async list(options: { repository?: Pick<SourceRef, 'scm' | 'repoId'>; limit?: number } = {}): Promise<BuildRecord[]> {
    const index = options.repository ? this.repoIndexKey(options.repository) : this.recentKey;
    const limit = Math.max(1, Math.min(options.limit ?? 20, 500));
    const ids = await this.redis.zrevrange(index, 0, limit - 1);
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.buildKey(id));
    const results = await exec(pipeline);
    return results.map((fields) => toRecord(fields as Record<string, string>)).filter((r): r is BuildRecord => r !== undefined);
  }

  /** Every repository an event was accepted for, with what a rebuild needs. */
  async repositories(): Promise<KnownRepository[]> {
    const all = await this.redis.hgetall(this.reposKey);
    return Object.values(all)
      .map((raw) => KnownRepository.safeParse(JSON.parse(raw)))
      .filter((r) => r.success)
      .map((r) => r.data);
  }

  async repository(source: Pick<SourceRef, 'scm' | 'repoId'>): Promise<KnownRepository | undefined> {
    const raw = await this.redis.hget(this.reposKey, repositoryKey(source));
    if (!raw) return undefined;
    const parsed = KnownRepository.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  }

  /** A repository by "owner/name" as the host spells it (case-insensitive), optionally of one host. */
  async findRepository(fullName: string, scm?: SourceRef['scm']): Promise<KnownRepository[]> {
    const wanted = fullName.toLowerCase();
    return (await this.repositories()).filter((r) => r.fullName.toLowerCase() === wanted && (!scm || r.scm === scm));
  }

  /** Updates fields of an existing record only: a record that expired is not recreated half-empty. */
  private async write(id: string, fields: Record<string, string>): Promise<void> {
    const key = this.buildKey(id);
    const args = Object.entries(fields).flat();
    await this.redis.eval(UPDATE_IF_EXISTS, 1, key, this.ttlMs, new Date().toISOString(), ...args);
  }
}

// KEYS[1] the record; ARGV: ttl ms, updatedAt, then field/value pairs.
const UPDATE_IF_EXISTS = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local fields = {}
for i = 3, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], 'updatedAt', ARGV[2], unpack(fields))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1`;

async function exec(pipeline: ReturnType<Redis['pipeline']>): Promise<unknown[]> {
  const results = (await pipeline.exec()) ?? [];
  const failed = results.find(([err]) => err);
  if (failed) throw new Error(`build history: ${(failed[0] as Error).message}`, { cause: failed[0] });
  return results.map(([, value]) => value);
}

function toRecord(fields: Record<string, string>): BuildRecord | undefined {
  if (!fields || !fields.id) return undefined;
  const stages: Record<string, number> = {};
  const functions: Record<string, FunctionResult> = {};
  for (const [field, value] of Object.entries(fields)) {
    if (field.startsWith('stage:')) stages[field.slice(6)] = Number(value);
    if (field.startsWith('fn:')) {
      const parsed = FunctionResult.safeParse(safeJson(value));
      if (parsed.success) functions[field.slice(3)] = parsed.data;
    }
  }
  const state = BuildState.safeParse(fields.state);
  const trigger = BuildTrigger.safeParse(fields.trigger);
  return {
    id: fields.id,
    repository: {
      scm: fields.scm as SourceRef['scm'],
      owner: fields.owner,
      name: fields.repo,
      fullName: fields.fullName,
      repoId: Number(fields.repoId),
      namespace: fields.namespace,
    },
    sha: fields.sha,
    branch: fields.branch,
    ...(fields.pullRequest ? { pullRequest: Number(fields.pullRequest) } : {}),
    kind: fields.kind as BuildJob['kind'],
    ...(fields.pushedBy ? { pushedBy: fields.pushedBy } : {}),
    seq: Number(fields.seq),
    trigger: trigger.success ? trigger.data : 'webhook',
    state: state.success ? state.data : 'queued',
    ...(fields.reason !== undefined ? { reason: fields.reason } : {}),
    stages,
    functions,
    logUrl: fields.logUrl,
    createdAt: fields.createdAt,
    ...(fields.startedAt ? { startedAt: fields.startedAt } : {}),
    ...(fields.finishedAt ? { finishedAt: fields.finishedAt } : {}),
    updatedAt: fields.updatedAt,
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
