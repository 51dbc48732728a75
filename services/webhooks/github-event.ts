// GitHub's webhook events, reduced at the edge to what gitfaas acts on: a build of one
// commit (push to the default branch, or a pull request's head) or a reason to ignore
// the event. Everything downstream sees only the internal SourceRef.
import type { BuildJob, SourceRef } from '../../shared/jobs.js';
import { ownerNamespace } from '../../shared/names.js';

export type GitHubDecision =
  | { action: 'build'; kind: BuildJob['kind']; source: SourceRef; pushedBy?: string }
  /** A pull request closed or merged: its previews go (services/deployer/preview-remove.ts). */
  | { action: 'close-preview'; reason: 'closed' | 'merged'; source: SourceRef & { pullRequest: number } }
  /** Authentic and understood, but nothing to build; `source` set when the commit should hear why. */
  | { action: 'skip'; reason: string; source?: SourceRef }
  | { action: 'invalid'; reason: string };

const PR_ACTIONS = new Set(['opened', 'synchronize', 'reopened']);
const ZERO_SHA = /^0{40}$/;

// The fields read from GitHub's payloads (checked by hasRepository before use).
interface Repo {
  id: number;
  name: string;
  full_name: string;
  owner: { login: string };
  clone_url: string;
  private: boolean;
  default_branch: string;
}
interface PushEvent {
  ref: string;
  pusher?: { name?: string };
  sender?: { login?: string };
  after: string;
  deleted?: boolean;
  repository: Repo;
  installation?: { id: number };
}
interface PullRequestEvent {
  action: string;
  sender?: { login?: string };
  number: number;
  pull_request: { merged?: boolean; head: { sha: string; ref: string; repo: Repo | null } };
  repository: Repo;
  installation?: { id: number };
}

function repoSource(repo: Repo, installationId: number | undefined): Omit<SourceRef, 'sha' | 'branch' | 'cloneUrl' | 'private' | 'pullRequest'> {
  const owner = repo.owner.login;
  return {
    scm: 'github',
    owner,
    repo: repo.name,
    fullName: repo.full_name,
    repoId: repo.id,
    defaultBranch: repo.default_branch,
    ...(installationId !== undefined ? { installationId } : {}),
    namespace: ownerNamespace('github', owner),
  };
}

function hasRepository(payload: any): boolean {
  const repo = payload?.repository;
  return (
    typeof repo?.id === 'number' &&
    typeof repo?.name === 'string' &&
    typeof repo?.full_name === 'string' &&
    typeof repo?.owner?.login === 'string' &&
    typeof repo?.clone_url === 'string' &&
    typeof repo?.default_branch === 'string'
  );
}

/**
 * A repository whose names disagree (owner.login "Alice", full_name "mallory/ns") would
 * deploy into one owner's namespace what another's names: refused at the edge.
 */
function namesDisagree(repo: Repo, where: string): string | undefined {
  const expected = `${repo.owner.login}/${repo.name}`;
  if (repo.full_name.toLowerCase() === expected.toLowerCase()) return undefined;
  return `${where}.full_name "${repo.full_name}" disagrees with ${where}.owner.login and name ("${expected}"): refused`;
}

export function decideGitHubEvent(event: string, payload: any): GitHubDecision {
  if (event === 'push') return decidePush(payload as PushEvent);
  if (event === 'pull_request') return decidePullRequest(payload as PullRequestEvent);
  return { action: 'skip', reason: `event "${event}" is not acted on` };
}

function decidePush(payload: PushEvent): GitHubDecision {
  if (!hasRepository(payload) || typeof payload.ref !== 'string' || typeof payload.after !== 'string') {
    return { action: 'invalid', reason: 'push payload lacks ref, after or repository fields' };
  }
  const mismatch = namesDisagree(payload.repository, 'repository');
  if (mismatch) return { action: 'invalid', reason: mismatch };
  if (!payload.ref.startsWith('refs/heads/')) return { action: 'skip', reason: `${payload.ref} is not a branch` };
  if (payload.deleted || ZERO_SHA.test(payload.after)) return { action: 'skip', reason: `${payload.ref} was deleted` };
  if (!/^[0-9a-f]{40}$/.test(payload.after)) return { action: 'invalid', reason: `"after" is not a commit sha` };
  const repo = payload.repository;
  const branch = payload.ref.slice('refs/heads/'.length);
  const source: SourceRef = {
    ...repoSource(repo, payload.installation?.id),
    cloneUrl: repo.clone_url,
    private: repo.private,
    sha: payload.after,
    branch,
  };
  if (branch !== repo.default_branch) {
    return {
      action: 'skip',
      reason: `not deployed: only pushes to the default branch (${repo.default_branch}) are built, this was ${branch}`,
      source,
    };
  }
  return { action: 'build', kind: 'push', source, ...pusher(payload.sender?.login ?? payload.pusher?.name) };
}

function pusher(login: unknown): { pushedBy?: string } {
  return typeof login === 'string' && login ? { pushedBy: login } : {};
}

function decidePullRequest(payload: PullRequestEvent): GitHubDecision {
  const pr = payload.pull_request;
  if (!hasRepository(payload) || typeof payload.action !== 'string' || typeof pr?.head?.sha !== 'string') {
    return { action: 'invalid', reason: 'pull_request payload lacks action, pull_request.head or repository fields' };
  }
  const closing = payload.action === 'closed';
  if (!PR_ACTIONS.has(payload.action) && !closing) return { action: 'skip', reason: `pull_request "${payload.action}" is not acted on` };
  if (typeof payload.number !== 'number') return { action: 'invalid', reason: 'pull_request payload lacks number' };
  const head = pr.head;
  if (!/^[0-9a-f]{40}$/.test(head.sha)) return { action: 'invalid', reason: 'pull_request.head.sha is not a commit sha' };
  const repo = payload.repository;
  const mismatch = namesDisagree(repo, 'repository');
  if (mismatch) return { action: 'invalid', reason: mismatch };
  // A closed pull request's fork may be gone already: its previews still go.
  const headRepo = head.repo ?? (closing ? repo : null);
  if (!headRepo) return { action: 'skip', reason: 'the pull request head repository no longer exists' };
  // A fork's branch names can repeat the base repository's, so fork heads get GitHub's
  // own pull ref: newest-commit-wins ordering keys on the branch and must not mix them.
  const sameRepo = head.repo !== null && headRepo.id === repo.id;
  const source = {
    ...repoSource(repo, payload.installation?.id),
    cloneUrl: headRepo.clone_url,
    private: headRepo.private,
    sha: head.sha,
    branch: sameRepo ? head.ref : `pull/${payload.number}/head`,
    pullRequest: payload.number,
    ...(sameRepo ? {} : { fork: true }),
  };
  if (closing) return { action: 'close-preview', reason: pr.merged === true ? 'merged' : 'closed', source };
  return { action: 'build', kind: 'pull_request', source, ...pusher(payload.sender?.login) };
}
