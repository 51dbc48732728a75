// Newest commit wins. The receiver numbers every event of a repository and branch (pull
// request) with nextSeq() and puts the number in BuildJob.seq; the builder drops a job
// whose number is no longer the latest (isSuperseded), and the deployer deploys only
// through claimDeploy(), an atomic compare-and-set that never lets a lower number
// replace a higher one.
import type { Redis } from 'ioredis';
import type { BuildJob, SourceRef } from './jobs.js';

/** How long the sequence keys live after the last event (they are recreated from 0 after). */
const SEQ_TTL_SECONDS = 90 * 24 * 3600;

/**
 * `<prefix>:seq:<scm>:<repoId>:<branch>` for pushes; pull requests are numbered apart
 * (`...:pr:<number>`) so a pull request's build never supersedes a branch's push build.
 * The prefix is GITFAAS_QUEUE_PREFIX, so instances sharing one Redis never share numbers.
 */
export function seqKey(prefix: string, source: Pick<SourceRef, 'scm' | 'repoId' | 'branch' | 'pullRequest'>): string {
  const scope = source.pullRequest !== undefined ? `pr:${source.pullRequest}` : source.branch;
  return `${prefix}:seq:${source.scm}:${source.repoId}:${scope}`;
}

const latestShaKey = (key: string) => `${key}:sha`;
const deployedKey = (key: string) => `${key}:deployed`;

// INCR the sequence and remember which commit holds the new number, in one step.
const NEXT_SEQ = `
local n = redis.call('INCR', KEYS[1])
redis.call('SET', KEYS[2], n .. ' ' .. ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return n`;

/** The receiver's call: the next number for this repository and branch (pull request). */
export async function nextSeq(redis: Redis, prefix: string, source: SourceRef): Promise<number> {
  const key = seqKey(prefix, source);
  const n = await redis.eval(NEXT_SEQ, 2, key, latestShaKey(key), source.sha, SEQ_TTL_SECONDS);
  return Number(n);
}

export interface SupersededBy {
  /** The latest number for the job's repository and branch. */
  seq: number;
  /** The commit holding it, when it is known (recorded by nextSeq). */
  sha?: string;
}

/** Undefined while the job is the newest event of its repository and branch; else who replaced it. */
export async function isSuperseded(redis: Redis, prefix: string, job: Pick<BuildJob, 'source' | 'seq'>): Promise<SupersededBy | undefined> {
  const key = seqKey(prefix, job.source);
  const [current, latest] = await redis.mget(key, latestShaKey(key));
  const seq = current === null ? 0 : Number(current);
  if (!(job.seq < seq)) return undefined;
  const [latestSeq, sha] = (latest ?? '').split(' ');
  return { seq, sha: Number(latestSeq) >= seq && sha ? sha : undefined };
}

/** "superseded by 1a2b3c4" (or "by a newer commit" when the commit is not known). */
export function supersededText(by: SupersededBy): string {
  return by.sha ? `superseded by ${by.sha.slice(0, 7)}` : 'superseded by a newer commit';
}

// Compare-and-set on the deployed number: a deploy goes ahead only if nothing newer has.
const CLAIM_DEPLOY = `
local deployed = tonumber(redis.call('GET', KEYS[1]) or '-1')
local seq = tonumber(ARGV[1])
if seq >= deployed then
  redis.call('SET', KEYS[1], seq, 'EX', ARGV[2])
  return 1
end
return 0`;

/**
 * The deployer's call before it deploys: true (and the job's number recorded) only if no
 * job with a higher number of the same repository and branch has claimed a deploy.
 */
export async function claimDeploy(redis: Redis, prefix: string, job: Pick<BuildJob, 'source' | 'seq'>): Promise<boolean> {
  const result = await redis.eval(CLAIM_DEPLOY, 1, deployedKey(seqKey(prefix, job.source)), job.seq, SEQ_TTL_SECONDS);
  return Number(result) === 1;
}
