// GitHub credentials, API clients and the StatusReporter for GitHub. Two ways in:
// - a GitHub App (GITHUB_APP_ID + GITHUB_APP_PRIVATE_KEY): each event's installation gets
//   an installation token (@octokit/auth-app caches it until shortly before it expires)
//   and statuses are check runs;
// - a token (GITHUB_TOKEN): statuses are commit statuses.
// GITHUB_API_URL points octokit at GitHub Enterprise Server, or at the tests' stand-in.
// Tokens stay in memory: never in job payloads, logs, or remote URLs.
import { createAppAuth } from '@octokit/auth-app';
import { Octokit } from '@octokit/rest';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { ConfigError, urlVar } from './config.js';
import type { SourceRef } from './jobs.js';
import type { Logger } from './logger.js';
import type { StatusReporter, StatusUpdate } from './status.js';
import { buildLogKey, isBuildLogToken } from './build-logs.js';
import { CheckRunStore } from './github-check-runs.js';

export type GitHubCredentials =
  | { kind: 'app'; appId: number; privateKey: string }
  | { kind: 'token'; token: string }
  | { kind: 'none' };

export interface GitHubSettings {
  apiUrl: string;
  /** GITHUB_URL: GitHub's web URL (GitHub Enterprise: its own), the origin repositories are cloned from. */
  webUrl?: string;
  credentials: GitHubCredentials;
}

/** Secret variables every service that talks to GitHub resolves with withSecrets(). */
export const GITHUB_SECRET_VARS = ['GITHUB_APP_PRIVATE_KEY', 'GITHUB_TOKEN'] as const;

/** Zod shape (keyed by variable name) to spread into a service's config schema. */
export const githubEnvShape = {
  GITHUB_API_URL: urlVar('https://api.github.com'),
  GITHUB_URL: urlVar('https://github.com'),
  GITHUB_APP_ID: z.coerce.number().int().positive('expected the numeric App ID from the App settings page').optional(),
  GITHUB_APP_PRIVATE_KEY: z.string().optional(),
  GITHUB_TOKEN: z.string().optional(),
};

type GitHubEnv = {
  GITHUB_API_URL: string;
  GITHUB_URL?: string;
  GITHUB_APP_ID?: number;
  GITHUB_APP_PRIVATE_KEY?: string;
  GITHUB_TOKEN?: string;
};

/** Turns the parsed GITHUB_* variables into settings; an App wins over a token. */
export function githubSettings(env: GitHubEnv): GitHubSettings {
  const apiUrl = env.GITHUB_API_URL.replace(/\/+$/, '');
  const webUrl = (env.GITHUB_URL ?? 'https://github.com').replace(/\/+$/, '');
  if (env.GITHUB_APP_ID !== undefined || env.GITHUB_APP_PRIVATE_KEY !== undefined) {
    if (env.GITHUB_APP_ID === undefined) {
      throw new ConfigError('GITHUB_APP_PRIVATE_KEY is set but GITHUB_APP_ID is not: set GITHUB_APP_ID to the App ID');
    }
    if (!env.GITHUB_APP_PRIVATE_KEY) {
      throw new ConfigError(
        'GITHUB_APP_ID is set but GITHUB_APP_PRIVATE_KEY is not: set GITHUB_APP_PRIVATE_KEY or GITHUB_APP_PRIVATE_KEY_FILE to the App private key (PEM)',
      );
    }
    if (!/-----BEGIN (RSA )?PRIVATE KEY-----/.test(env.GITHUB_APP_PRIVATE_KEY)) {
      throw new ConfigError('GITHUB_APP_PRIVATE_KEY: expected a PEM private key ("-----BEGIN RSA PRIVATE KEY-----...")');
    }
    return { apiUrl, webUrl, credentials: { kind: 'app', appId: env.GITHUB_APP_ID, privateKey: env.GITHUB_APP_PRIVATE_KEY } };
  }
  if (env.GITHUB_TOKEN) return { apiUrl, webUrl, credentials: { kind: 'token', token: env.GITHUB_TOKEN } };
  return { apiUrl, webUrl, credentials: { kind: 'none' } };
}

/** Git's username for token clones over https (GitHub accepts any with a token). */
export const CLONE_USERNAME = 'x-access-token';

function octokitLog(log: Logger) {
  return {
    debug: (message: string) => log.debug(message),
    info: (message: string) => log.debug(message),
    warn: (message: string) => log.warn(message),
    error: (message: string) => log.error(message),
  };
}

export class GitHub {
  private readonly installations = new Map<number, Octokit>();
  private tokenClient: Octokit | undefined;

  constructor(
    readonly settings: GitHubSettings,
    private readonly log: Logger,
  ) {}

  get mode(): GitHubCredentials['kind'] {
    return this.settings.credentials.kind;
  }

  /**
   * An API client for the repository's installation (App) or the token; undefined with
   * no credentials. One client per installation, so auth-app's token cache is reused.
   */
  client(source: Pick<SourceRef, 'installationId' | 'fullName'>): Octokit | undefined {
    const creds = this.settings.credentials;
    if (creds.kind === 'none') return undefined;
    if (creds.kind === 'token') {
      this.tokenClient ??= new Octokit({ auth: creds.token, baseUrl: this.settings.apiUrl, log: octokitLog(this.log) });
      return this.tokenClient;
    }
    const installationId = source.installationId;
    if (installationId === undefined) {
      throw new Error(
        `event for ${source.fullName} carries no installation id: with a GitHub App, the webhook must be the App's own webhook`,
      );
    }
    let client = this.installations.get(installationId);
    if (!client) {
      client = new Octokit({
        authStrategy: createAppAuth,
        auth: { appId: creds.appId, privateKey: creds.privateKey, installationId },
        baseUrl: this.settings.apiUrl,
        log: octokitLog(this.log),
      });
      this.installations.set(installationId, client);
    }
    return client;
  }

  /**
   * The token to clone a private repository with (as password, username CLONE_USERNAME),
   * or undefined for a public repository or without credentials. Hand it to git through
   * an environment variable or a credential helper, never in the remote URL.
   */
  async cloneCredentials(source: SourceRef): Promise<string | undefined> {
    if (!source.private) return undefined;
    const creds = this.settings.credentials;
    if (creds.kind === 'none') return undefined;
    if (creds.kind === 'token') return creds.token;
    const client = this.client(source);
    const auth = (await client!.auth({ type: 'installation' })) as { token: string };
    return auth.token;
  }
}

/**
 * GitHub's commit status states; "running" has no status of its own. Commit statuses have
 * no cancelled state and "error" shows as a failure, so a superseded commit ends as
 * success with a description that says which commit superseded it and that it was not deployed.
 */
const STATUS_STATE = { pending: 'pending', running: 'pending', success: 'success', failure: 'failure', cancelled: 'success' } as const;

/** GitHub limits descriptions to 140 characters. */
function oneLine(text: string, max = 140): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}

/**
 * Reports through the Checks API with an App (one check run per sha and context, created
 * once and then updated in place) and through commit statuses with a token. Without
 * credentials it only logs.
 */
export class GitHubStatusReporter implements StatusReporter {
  private readonly checkRuns: CheckRunStore;

  constructor(
    private readonly github: GitHub,
    private readonly redis: Redis,
    private readonly log: Logger,
    private readonly keyPrefix = 'gitfaas',
  ) {
    this.checkRuns = new CheckRunStore(redis, keyPrefix);
  }

  async report(source: SourceRef, update: StatusUpdate): Promise<void> {
    const client = this.github.client(source);
    const log = this.log.child({ repo: source.fullName, sha: source.sha, context: update.context, state: update.state });
    if (!client) {
      log.info({ description: update.description }, 'status (no GitHub credentials configured, not sent)');
      return;
    }
    const [owner, repo] = [source.owner, source.repo];
    const description = oneLine(update.description);
    if (this.github.mode === 'token') {
      await client.repos.createCommitStatus({
        owner,
        repo,
        sha: source.sha,
        state: STATUS_STATE[update.state],
        context: update.context,
        description,
        target_url: update.targetUrl,
      });
      log.debug('commit status sent');
      return;
    }
    const text = update.details?.text ?? (update.state === 'failure' ? await this.buildLogTail(update.targetUrl, log) : undefined);
    const fields = checkRunFields({ ...update, details: update.details || text ? { title: description, summary: description, ...update.details, text } : undefined }, description);
    await this.checkRuns.upsert(
      source,
      update.context,
      async () => {
        const { data } = await client.checks.create({ owner, repo, head_sha: source.sha, name: update.context, external_id: update.context, ...fields });
        return data.id;
      },
      async (id) => {
        await client.checks.update({ owner, repo, check_run_id: id, ...fields });
      },
    );
    log.debug('check run sent');
  }

  /** The last lines of the build log a failed status links to, for the check run's output. */
  private async buildLogTail(targetUrl: string | undefined, log: Logger): Promise<string | undefined> {
    const token = targetUrl ? /\/logs\/([^/?#]+)$/.exec(targetUrl)?.[1] : undefined;
    if (!token || !isBuildLogToken(token)) return undefined;
    try {
      const entries = (await this.redis.xrevrange(buildLogKey(this.keyPrefix, token), '+', '-', 'COUNT', TAIL_LINES)) as [string, string[]][];
      const lines: string[] = [];
      for (const [, fields] of entries.reverse()) {
        for (let i = 0; i < fields.length; i += 2) if (fields[i] === 'l') lines.push(fields[i + 1]);
      }
      return lines.length ? `Last lines of the build log:\n\n\`\`\`\n${lines.join('\n')}\n\`\`\`` : undefined;
    } catch (err) {
      log.debug({ err }, 'build log tail not read');
      return undefined;
    }
  }
}

const TAIL_LINES = 60;

function checkRunFields(update: StatusUpdate, description: string) {
  const output = {
    title: oneLine(update.details?.title ?? description, 255),
    summary: update.details?.summary ?? description,
    ...(update.details?.text ? { text: update.details.text.slice(-60000) } : {}),
  };
  const base = { details_url: update.targetUrl, output };
  if (update.state === 'pending') return { ...base, status: 'queued' as const };
  if (update.state === 'running') return { ...base, status: 'in_progress' as const };
  return {
    ...base,
    status: 'completed' as const,
    // A superseded commit is neutral: it counts as passing for required checks (cancelled
    // does not), and shows grey rather than red.
    conclusion: update.state === 'cancelled' ? ('neutral' as const) : update.state,
    completed_at: new Date().toISOString(),
  };
}
