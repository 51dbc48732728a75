// GitLab credentials and the StatusReporter for GitLab (gitlab.com or self-managed),
// through @gitbeaker/rest. GITLAB_TOKEN clones private projects and sets commit
// statuses; it stays in memory: never in job payloads, logs, or remote URLs.
import { Gitlab } from '@gitbeaker/rest';
import { z } from 'zod';
import { urlVar } from './config.js';
import type { SourceRef } from './jobs.js';
import type { Logger } from './logger.js';
import type { StatusReporter, StatusState, StatusUpdate } from './status.js';

export const GITLAB_SECRET_VARS = ['GITLAB_TOKEN', 'GITLAB_WEBHOOK_SECRET'] as const;

/** Zod shape (keyed by variable name) to spread into a service's config schema. */
export const gitlabEnvShape = {
  GITLAB_URL: urlVar('https://gitlab.com'),
  GITLAB_TOKEN: z.string().optional(),
};

export interface GitLabSettings {
  url: string;
  token: string | undefined;
}

export function gitlabSettings(env: { GITLAB_URL: string; GITLAB_TOKEN?: string }): GitLabSettings {
  return { url: env.GITLAB_URL.replace(/\/+$/, ''), token: env.GITLAB_TOKEN || undefined };
}

/** Git's username for token clones over https: GitLab takes "oauth2" with any token kind. */
export const GITLAB_CLONE_USERNAME = 'oauth2';

/** GitLab's commit status states. */
const STATE: Record<StatusState, 'pending' | 'running' | 'success' | 'failed' | 'canceled'> = {
  pending: 'pending',
  running: 'running',
  success: 'success',
  failure: 'failed',
  cancelled: 'canceled',
};

/** GitLab keeps 255 characters of a description; one line reads best. */
function oneLine(text: string, max = 255): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}

export class GitLab {
  readonly api: InstanceType<typeof Gitlab> | undefined;

  constructor(readonly settings: GitLabSettings) {
    this.api = settings.token ? new Gitlab({ host: settings.url, token: settings.token }) : undefined;
  }

  /** The token to clone a private project with (username GITLAB_CLONE_USERNAME), if any. */
  cloneCredentials(source: SourceRef): string | undefined {
    return source.private ? this.settings.token : undefined;
  }
}

export class GitLabStatusReporter implements StatusReporter {
  constructor(
    private readonly gitlab: GitLab,
    private readonly log: Logger,
  ) {}

  async report(source: SourceRef, update: StatusUpdate): Promise<void> {
    const log = this.log.child({ repo: source.fullName, sha: source.sha, context: update.context, state: update.state });
    const api = this.gitlab.api;
    if (!api) {
      log.info({ description: update.description }, 'status (no GITLAB_TOKEN configured, not sent)');
      return;
    }
    try {
      await api.Commits.editStatus(source.repoId, source.sha, STATE[update.state], {
        name: update.context,
        description: oneLine(update.description),
        ...(update.targetUrl ? { targetUrl: update.targetUrl } : {}),
        ...(source.pullRequest === undefined ? { ref: source.branch } : {}),
      });
      log.debug('commit status sent');
    } catch (err) {
      // GitLab refuses a transition to the state a status already has ("Cannot transition
      // status via :run from :running"): the status on the commit is already right.
      if (/Cannot transition status/i.test(String((err as Error).message) + JSON.stringify((err as { cause?: unknown }).cause ?? ''))) {
        log.debug('status already in that state');
        return;
      }
      throw new Error(`GitLab commit status for ${source.fullName}@${source.sha.slice(0, 7)} failed`, { cause: err });
    }
  }
}
