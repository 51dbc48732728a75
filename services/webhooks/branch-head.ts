// A repository's default-branch head as its git host's API answers it: GitHub's
// GET /repos/{owner}/{repo}/branches/{branch} through octokit (the App installation or
// GITHUB_TOKEN), GitLab's GET /projects/:id/repository/branches/:branch through gitbeaker
// (GITLAB_TOKEN). The reconciler compares it with what was last built.
import type { KnownRepository } from '../../shared/build-history.js';
import type { HostClients } from '../../shared/status-router.js';

/** The host cannot be asked: no credentials for it. Not an error, nothing to retry. */
export class NoHostCredentials extends Error {
  override name = 'NoHostCredentials';
}

function statusOf(err: unknown): number | undefined {
  const e = err as { status?: unknown; cause?: { response?: { status?: unknown } } };
  if (typeof e?.status === 'number') return e.status;
  const nested = e?.cause?.response?.status;
  return typeof nested === 'number' ? nested : undefined;
}

function failure(repo: KnownRepository, host: string, err: unknown): Error {
  const status = statusOf(err);
  const what = status !== undefined ? `${host} answered ${status}` : `${host} did not answer: ${(err as Error).message}`;
  return new Error(`cannot read the head of ${repo.fullName}@${repo.defaultBranch} (${repo.scm} ${repo.repoId}): ${what}`, { cause: err });
}

export async function defaultBranchHead(hosts: Pick<HostClients, 'github' | 'gitlab'>, repo: KnownRepository): Promise<string> {
  if (repo.scm === 'gitlab') {
    const api = hosts.gitlab.api;
    if (!api) throw new NoHostCredentials('no GITLAB_TOKEN configured');
    try {
      const branch = (await api.Branches.show(repo.repoId, repo.defaultBranch)) as unknown as { commit?: { id?: string } };
      const sha = branch.commit?.id;
      if (!sha) throw new Error('the answer names no commit');
      return sha;
    } catch (err) {
      throw failure(repo, 'GitLab', err);
    }
  }
  // client() throws for an App repository known without an installation id: a failure.
  let client;
  try {
    client = hosts.github.client(repo);
  } catch (err) {
    throw failure(repo, 'GitHub', err);
  }
  if (!client) throw new NoHostCredentials('no GitHub credentials configured');
  try {
    const { data } = await client.request('GET /repos/{owner}/{repo}/branches/{branch}', {
      owner: repo.owner,
      repo: repo.repo,
      branch: repo.defaultBranch,
    });
    return data.commit.sha;
  } catch (err) {
    throw failure(repo, 'GitHub', err);
  }
}
