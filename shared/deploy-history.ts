// What went live for a repository, newest first, and the rollback hold. The deployer
// writes both (services/deployer); the admin rollback route on the webhooks service
// reads the history to answer what is live and what a rollback can go back to. Keys live
// under the instance's queue prefix:
//   <prefix>:deploy-history:<scm>:<repoId>   list of DeployRecord JSON, newest first, trimmed to a count
//   <prefix>:rollback-hold:<scm>:<repoId>    RollbackHold JSON while a rollback holds
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { BuiltFunction, Scm, SourceRef } from './jobs.js';

export const DEFAULT_DEPLOY_HISTORY_COUNT = 20;

export const DeployRecord = z.object({
  /** The commit whose functions went live. */
  sha: z.string(),
  /** The build that made the images (shared/build-history.ts), when known. */
  buildId: z.string().optional(),
  /** ISO time the functions went live. */
  at: z.string(),
  /** The commit as the deploy job named it (no tokens: references only). */
  source: SourceRef,
  /** Each function as deployed, image by digest: a rollback deploys exactly this again. */
  functions: z.array(BuiltFunction),
  /** Set when this record is a rollback to an earlier deploy, not a build's own deploy. */
  rollbackFrom: z.string().optional(),
});
export type DeployRecord = z.infer<typeof DeployRecord>;

export const RollbackHold = z.object({
  /** The commit rolled back to. */
  sha: z.string(),
  /** The newest event number of the default branch when the rollback happened (shared/supersede.ts). */
  seq: z.number().int(),
  at: z.string(),
});
export type RollbackHold = z.infer<typeof RollbackHold>;

type RepoRef = { scm: z.infer<typeof Scm>; repoId: number };

const historyKey = (prefix: string, repo: RepoRef) => `${prefix}:deploy-history:${repo.scm}:${repo.repoId}`;
const holdKey = (prefix: string, repo: RepoRef) => `${prefix}:rollback-hold:${repo.scm}:${repo.repoId}`;

export class DeployHistory {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    /** How many deploys are kept per repository (GITFAAS_DEPLOY_HISTORY_COUNT). */
    private readonly count = DEFAULT_DEPLOY_HISTORY_COUNT,
  ) {}

  async record(entry: DeployRecord): Promise<void> {
    const key = historyKey(this.prefix, entry.source);
    await this.redis.multi().lpush(key, JSON.stringify(DeployRecord.parse(entry))).ltrim(key, 0, this.count - 1).exec();
  }

  /** Newest first. Entries that no longer parse (an older format) are skipped. */
  async list(repo: RepoRef): Promise<DeployRecord[]> {
    const raw = await this.redis.lrange(historyKey(this.prefix, repo), 0, -1);
    return raw.flatMap((text) => {
      const parsed = DeployRecord.safeParse(JSON.parse(text));
      return parsed.success ? [parsed.data] : [];
    });
  }

  /** Each function's live deploy: the newest record that holds it. */
  async live(repo: RepoRef): Promise<Map<string, DeployRecord>> {
    const live = new Map<string, DeployRecord>();
    for (const record of await this.list(repo)) {
      for (const fn of record.functions) if (!live.has(fn.name)) live.set(fn.name, record);
    }
    return live;
  }

  async hold(repo: RepoRef): Promise<RollbackHold | undefined> {
    const text = await this.redis.get(holdKey(this.prefix, repo));
    if (!text) return undefined;
    const parsed = RollbackHold.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  }

  async setHold(repo: RepoRef, hold: RollbackHold): Promise<void> {
    await this.redis.set(holdKey(this.prefix, repo), JSON.stringify(hold));
  }

  async clearHold(repo: RepoRef): Promise<void> {
    await this.redis.del(holdKey(this.prefix, repo));
  }
}
