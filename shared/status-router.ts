// One StatusReporter per job whatever the git host: statuses of a GitHub commit go to
// GitHub (check runs or commit statuses), those of a GitLab commit to GitLab, picked by
// the job's source.scm. Webhooks, builder and deployer each build one from their config.
import type { Redis } from 'ioredis';
import { CLONE_USERNAME, GitHub, GitHubStatusReporter, type GitHubSettings } from './github.js';
import { GITLAB_CLONE_USERNAME, GitLab, GitLabStatusReporter, type GitLabSettings } from './gitlab.js';
import type { SourceRef } from './jobs.js';
import type { Logger } from './logger.js';
import type { StatusReporter, StatusUpdate } from './status.js';
import { verifyRepository, type Verified } from './verify-repository.js';

export class StatusRouter implements StatusReporter {
  constructor(private readonly reporters: Record<SourceRef['scm'], StatusReporter>) {}

  report(source: SourceRef, update: StatusUpdate): Promise<void> {
    return this.reporters[source.scm].report(source, update);
  }
}

export interface HostClients {
  github: GitHub;
  gitlab: GitLab;
  reporter: StatusRouter;
  /** The token to clone a private repository with, and git's username for it. */
  cloneCredentials(source: SourceRef): Promise<{ username: string; password: string } | undefined>;
  /** The host's own answer for the source's repository id agrees with its names (shared/verify-repository.ts). */
  verifyRepository(source: SourceRef): Promise<Verified>;
}

/** GitHub and GitLab clients from a service's settings, and the reporter that routes between them. */
export function hostClients(
  settings: { github: GitHubSettings; gitlab: GitLabSettings },
  redis: Redis,
  log: Logger,
  keyPrefix: string,
): HostClients {
  const github = new GitHub(settings.github, log.child({ component: 'github' }));
  const gitlab = new GitLab(settings.gitlab);
  const reporter = new StatusRouter({
    github: new GitHubStatusReporter(github, redis, log.child({ component: 'status' }), keyPrefix),
    gitlab: new GitLabStatusReporter(gitlab, log.child({ component: 'status' })),
  });
  return {
    github,
    gitlab,
    reporter,
    verifyRepository: (source) => verifyRepository({ github, gitlab }, source),
    async cloneCredentials(source) {
      if (source.scm === 'gitlab') {
        const token = gitlab.cloneCredentials(source);
        return token ? { username: GITLAB_CLONE_USERNAME, password: token } : undefined;
      }
      const token = await github.cloneCredentials(source);
      return token ? { username: CLONE_USERNAME, password: token } : undefined;
    },
  };
}
