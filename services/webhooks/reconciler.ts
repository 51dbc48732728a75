// No push left behind. GitHub does not redeliver a webhook that failed, and a receiver
// that was down misses it: at start and then every GITFAAS_RECONCILE_INTERVAL, the
// reconciler asks each known repository's git host for its default-branch head and
// compares it with the last commit an event was accepted for (the sequence key of
// shared/supersede.ts, then the build and deploy histories). A head nobody has seen is
// enqueued exactly as the receiver would have enqueued its push: the same deterministic
// job id and sequence numbering (enqueue.ts), so a second tick, a second reconciler
// instance or the late webhook itself finds the job already there and nothing builds twice.
import type { DeployHistory } from '../../shared/deploy-history.js';
import { defaultBranchSource, type KnownRepository } from '../../shared/build-history.js';
import { checkCloneUrl, type GitOrigins } from '../../shared/git-origins.js';
import type { Logger } from '../../shared/logger.js';
import type { HostClients } from '../../shared/status-router.js';
import { seqKey } from '../../shared/supersede.js';
import type { Allowlist } from '../../shared/allowlist.js';
import { defaultBranchHead, NoHostCredentials } from './branch-head.js';
import type { BuildEnqueuer } from './enqueue.js';

export interface ReconcilerDeps {
  enqueuer: BuildEnqueuer;
  deployHistory: DeployHistory;
  hosts: Pick<HostClients, 'github' | 'gitlab'>;
  allowlist: Allowlist;
  origins: GitOrigins;
  log: Logger;
}

/** What one repository's check came to. */
export type RepositoryOutcome =
  | { repo: string; outcome: 'up-to-date' | 'enqueued' | 'already-queued'; sha: string }
  | { repo: string; outcome: 'skipped' | 'error'; reason: string };

/** How many builds of a repository are looked through for the last default-branch push. */
const HISTORY_LOOKBACK = 50;

export class Reconciler {
  constructor(private readonly deps: ReconcilerDeps) {}

  /** One pass over every known repository. Never throws: each repository's error is logged and tried again next tick. */
  async tick(): Promise<RepositoryOutcome[]> {
    const { log } = this.deps;
    let repos: KnownRepository[];
    try {
      repos = await this.deps.enqueuer.history.repositories();
    } catch (err) {
      log.warn({ err }, 'reconciler: cannot list the known repositories; trying again next tick');
      return [];
    }
    const outcomes: RepositoryOutcome[] = [];
    // One at a time: a few API calls per repository, kept well under the hosts' rate limits.
    for (const repo of repos) outcomes.push(await this.check(repo));
    const enqueued = outcomes.filter((o) => o.outcome === 'enqueued').length;
    if (enqueued > 0) log.info({ repositories: repos.length, enqueued }, 'reconciler: missed pushes enqueued');
    else log.debug({ repositories: repos.length }, 'reconciler: nothing missed');
    return outcomes;
  }

  async check(repo: KnownRepository): Promise<RepositoryOutcome> {
    const log = this.deps.log.child({ repo: repo.fullName, scm: repo.scm, component: 'reconciler' });
    const name = `${repo.scm}:${repo.fullName}`;
    try {
      if (!this.deps.allowlist.allows(repo.owner, repo.scm)) {
        return { repo: name, outcome: 'skipped', reason: `${repo.owner} is not on the customer list` };
      }
      let head: string;
      try {
        head = await defaultBranchHead(this.deps.hosts, repo);
      } catch (err) {
        if (err instanceof NoHostCredentials) return { repo: name, outcome: 'skipped', reason: err.message };
        throw err;
      }
      const known = await this.knownCommits(repo);
      if (known.last === undefined) {
        // Only pull requests were ever seen (or everything expired): the default branch
        // was never built here, and a reconciler is no reason to start now.
        return { repo: name, outcome: 'skipped', reason: `no build of ${repo.defaultBranch} is known` };
      }
      if (head === known.last) return { repo: name, outcome: 'up-to-date', sha: head };
      const hold = await this.deps.deployHistory.hold(repo);
      if (hold && (head === hold.sha || known.seen.has(head))) {
        // A rollback holds until a new push; a commit the repository already had is none.
        return { repo: name, outcome: 'skipped', reason: `rolled back to ${hold.sha.slice(0, 7)}; ${head.slice(0, 7)} is no new push` };
      }
      const source = defaultBranchSource(repo, head);
      const origin = checkCloneUrl(source, this.deps.origins);
      if (!origin.ok) return { repo: name, outcome: 'skipped', reason: origin.problem };
      const queued = await this.deps.enqueuer.enqueue('push', source, `reconciler-${head.slice(0, 12)}`);
      if (queued.duplicate) {
        log.debug({ sha: head, jobId: queued.jobId }, 'reconciler: head already queued');
        return { repo: name, outcome: 'already-queued', sha: head };
      }
      log.info({ sha: head, previous: known.last, jobId: queued.jobId, buildId: queued.buildId, seq: queued.seq }, 'reconciler: missed push enqueued');
      return { repo: name, outcome: 'enqueued', sha: head };
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'reconciler: repository not checked; trying again next tick');
      return { repo: name, outcome: 'error', reason: (err as Error).message };
    }
  }

  /**
   * The default branch's last commit an event was accepted for (the newest numbered
   * event, else the newest push build, else the newest deploy), and every commit known
   * to have been built or deployed.
   */
  private async knownCommits(repo: KnownRepository): Promise<{ last?: string; seen: Set<string> }> {
    const source = defaultBranchSource(repo, '0'.repeat(40));
    const { enqueuer, deployHistory } = this.deps;
    const [latest, builds, deploys] = await Promise.all([
      enqueuer.redis.get(`${seqKey(enqueuer.prefix, source)}:sha`),
      enqueuer.history.list({ repository: repo, limit: HISTORY_LOOKBACK }),
      deployHistory.list(repo),
    ]);
    const pushes = builds.filter((b) => b.kind === 'push' && b.branch === repo.defaultBranch).map((b) => b.sha);
    const deployed = deploys.filter((d) => d.source.branch === repo.defaultBranch && d.source.pullRequest === undefined).map((d) => d.sha);
    const numbered = latest?.split(' ')[1];
    return { last: numbered || pushes[0] || deployed[0], seen: new Set([...pushes, ...deployed]) };
  }
}

/** How long stop() waits for a tick in flight (a hung Redis or host must not hold shutdown). */
const STOP_WAIT_MS = 2000;

/** Runs tick() at start and then every intervalMs (a tick never overlaps the next). */
export function startReconciler(reconciler: Reconciler, intervalMs: number, log: Logger): { stop(): Promise<void> } {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const run = () => {
    running = reconciler
      .tick()
      .catch((err) => log.error({ err }, 'reconciler tick failed'))
      .finally(() => {
        if (!stopped) timer = setTimeout(run, intervalMs);
      });
  };
  run();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      let wait: NodeJS.Timeout | undefined;
      await Promise.race([running, new Promise((resolve) => (wait = setTimeout(resolve, STOP_WAIT_MS)))]);
      clearTimeout(wait);
    },
  };
}
