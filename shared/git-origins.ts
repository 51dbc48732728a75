// Where gitfaas clones from, and so where clone credentials may go. A webhook's clone URL
// is data from the sender: it is accepted only on a configured git origin of its host
// (GITHUB_URL, GITLAB_URL, plus GITFAAS_GIT_HOSTS), compared as scheme + host + port
// exactly, and must name the repository the event is about. file:// URLs, userinfo in the
// URL and origins nobody configured are refused, so neither a token nor another owner's
// repository on disk can be reached through a signed payload.
import { z } from 'zod';
import type { SourceRef } from './jobs.js';

/** Schemes an origin may have; ssh only when an operator lists an ssh:// origin. */
const ORIGIN_SCHEMES = new Set(['http:', 'https:', 'ssh:']);

export interface GitOrigin {
  /** scheme://host[:port], lower case, the default port left out (URL's own rules). */
  origin: string;
  /** Path the repositories sit under ("" for github.com; "/gitlab" for a GitLab in a subpath). */
  basePath: string;
}

/** scheme://host[:port] of a parsed URL; URL drops default ports of http(s). */
function originOf(url: URL): string {
  return `${url.protocol}//${url.host}`.toLowerCase();
}

/** Parses one configured origin; throws a message naming what is wrong. */
export function parseOrigin(text: string): GitOrigin {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new Error(`"${text}" is not a URL: expected an origin such as https://git.example.com or http://127.0.0.1:3000`);
  }
  if (!ORIGIN_SCHEMES.has(url.protocol)) throw new Error(`"${text}": only http, https and ssh origins can be git hosts (not ${url.protocol})`);
  if (url.username || url.password) throw new Error(`"${text}": an origin carries no user or password`);
  if (url.search || url.hash) throw new Error(`"${text}": an origin has no query or fragment`);
  return { origin: originOf(url), basePath: url.pathname.replace(/\/+$/, '') };
}

/** GITFAAS_GIT_HOSTS: comma-separated origins, each checked. */
export const gitHostsVar = z
  .string()
  .optional()
  .transform((value, ctx) => {
    const origins: GitOrigin[] = [];
    for (const item of (value ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
      try {
        origins.push(parseOrigin(item));
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }
    return origins;
  });

export type GitOrigins = Record<SourceRef['scm'], GitOrigin[]>;

/** The origins of each host: its own web URL first, then GITFAAS_GIT_HOSTS. */
export function gitOrigins(settings: { githubUrl: string; gitlabUrl: string; extra: GitOrigin[] }): GitOrigins {
  return {
    github: [parseOrigin(settings.githubUrl), ...settings.extra],
    gitlab: [parseOrigin(settings.gitlabUrl), ...settings.extra],
  };
}

export type CloneUrlCheck =
  /** `namesRepository`: the URL's path is the event's own repository (credentials may go there). */
  | { ok: true; namesRepository: boolean }
  | { ok: false; problem: string };

const scmName = { github: 'GitHub (GITHUB_URL)', gitlab: 'GitLab (GITLAB_URL)' } as const;

/**
 * Checks a source's clone URL against its host's origins. A pull request's head may live
 * in another repository (a fork): its URL is accepted on an allowed origin, but it does
 * not name the event's repository, so it is cloned without credentials.
 */
export function checkCloneUrl(source: Pick<SourceRef, 'scm' | 'cloneUrl' | 'fullName' | 'pullRequest'>, origins: GitOrigins): CloneUrlCheck {
  let url: URL;
  try {
    url = new URL(source.cloneUrl);
  } catch {
    return { ok: false, problem: `clone URL "${source.cloneUrl}" is not an absolute URL` };
  }
  if (url.username || url.password) return { ok: false, problem: 'clone URL carries a user or password: refused' };
  const shown = `${url.protocol}//${url.host}`;
  const matching = origins[source.scm].filter((o) => o.origin === originOf(url));
  if (matching.length === 0) {
    const allowed = origins[source.scm].map((o) => o.origin).join(', ');
    return {
      ok: false,
      problem: `clone URL on ${shown} refused: ${scmName[source.scm]} repositories are cloned only from ${allowed} (add an origin to GITFAAS_GIT_HOSTS to allow another)`,
    };
  }
  if (url.search || url.hash) return { ok: false, problem: 'clone URL carries a query or fragment: refused' };
  const path = decodeURIComponent(url.pathname).replace(/\/+$/, '').replace(/\.git$/, '').toLowerCase();
  if (matching.some((o) => path === `${o.basePath}/${source.fullName}`.toLowerCase())) return { ok: true, namesRepository: true };
  if (source.pullRequest !== undefined) return { ok: true, namesRepository: false };
  return { ok: false, problem: `clone URL path ${url.pathname} does not name the repository ${source.fullName} the event is about` };
}
