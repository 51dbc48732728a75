// The repository a build is for, confirmed by the git host before anything is cloned: a
// webhook's names are the sender's word, and in token mode every repository's webhook
// shares one secret, so any repository owner can sign a payload naming someone else's
// repository. The host's own answer for the repository id (through the App installation
// the event came from, or the token; GitLab: the project by id) must agree with the
// owner and full name the event carries, or the build fails naming the mismatch.
// Without credentials there is nothing to look up with, and no token to leak either.
import type { GitHub } from './github.js';
import type { GitLab } from './gitlab.js';
import type { SourceRef } from './jobs.js';

/** The event names a repository the host does not confirm: no retry can fix it. */
export class RepositoryMismatch extends Error {
  override name = 'RepositoryMismatch';
}

export type Verified = { verified: true } | { verified: false; why: string };

function statusOf(err: unknown): number | undefined {
  const e = err as { status?: unknown; cause?: { response?: { status?: unknown } } };
  if (typeof e?.status === 'number') return e.status;
  const nested = e?.cause?.response?.status;
  return typeof nested === 'number' ? nested : undefined;
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

function compare(source: SourceRef, found: { fullName: string; owner: string }, host: string): void {
  if (!same(found.fullName, source.fullName) || !same(found.owner, source.owner)) {
    throw new RepositoryMismatch(
      `event names ${source.fullName} (owner ${source.owner}) but ${host} repository ${source.repoId} is ${found.fullName} (owner ${found.owner}): refused`,
    );
  }
}

async function verifyGitHub(github: GitHub, source: SourceRef): Promise<Verified> {
  const client = github.client(source);
  if (!client) return { verified: false, why: 'no GitHub credentials configured' };
  const via = github.mode === 'app' ? `the App installation ${source.installationId}` : 'GITHUB_TOKEN';
  let data: { full_name: string; owner: { login: string } };
  try {
    ({ data } = await client.request('GET /repositories/{repository_id}', { repository_id: source.repoId }));
  } catch (err) {
    const status = statusOf(err);
    if (status === 404 || status === 403) {
      throw new RepositoryMismatch(`GitHub repository ${source.repoId} (${source.fullName}) is not visible through ${via}: refused`, { cause: err });
    }
    throw new Error(`could not look up GitHub repository ${source.repoId}: ${(err as Error).message}`, { cause: err });
  }
  compare(source, { fullName: data.full_name, owner: data.owner.login }, 'GitHub');
  return { verified: true };
}

async function verifyGitLab(gitlab: GitLab, source: SourceRef): Promise<Verified> {
  if (!gitlab.api) return { verified: false, why: 'no GITLAB_TOKEN configured' };
  let project: { path_with_namespace: string };
  try {
    project = (await gitlab.api.Projects.show(source.repoId)) as unknown as { path_with_namespace: string };
  } catch (err) {
    const status = statusOf(err);
    if (status === 404 || status === 403) {
      throw new RepositoryMismatch(`GitLab project ${source.repoId} (${source.fullName}) is not visible through GITLAB_TOKEN: refused`, { cause: err });
    }
    throw new Error(`could not look up GitLab project ${source.repoId}: ${(err as Error).message}`, { cause: err });
  }
  const path = project.path_with_namespace;
  compare(source, { fullName: path, owner: path.split('/')[0]! }, 'GitLab');
  return { verified: true };
}

export function verifyRepository(hosts: { github: GitHub; gitlab: GitLab }, source: SourceRef): Promise<Verified> {
  return source.scm === 'gitlab' ? verifyGitLab(hosts.gitlab, source) : verifyGitHub(hosts.github, source);
}
