// Real captured GitHub payloads (test/fixtures/github), adapted in memory to a test's
// repository, and signed the way GitHub signs them.
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './repo-root.js';

export function loadGitHubFixture(name: 'push' | 'pull_request.synchronize' | 'ping'): any {
  return JSON.parse(readFileSync(path.join(repoRoot(), 'test/fixtures/github', `${name}.json`), 'utf8'));
}

export interface TestRepo {
  owner: string;
  name: string;
  id: number;
  cloneUrl: string;
  defaultBranch?: string;
  private?: boolean;
  installationId?: number;
}

function adaptRepository(repository: any, repo: TestRepo): void {
  repository.id = repo.id;
  repository.name = repo.name;
  repository.full_name = `${repo.owner}/${repo.name}`;
  repository.owner.login = repo.owner;
  if ('name' in repository.owner) repository.owner.name = repo.owner;
  repository.clone_url = repo.cloneUrl;
  repository.default_branch = repo.defaultBranch ?? 'master';
  repository.private = repo.private ?? false;
}

/** GitHub's push payload for `sha` on `branch` of the test repository. */
export function pushPayload(repo: TestRepo, sha: string, branch = repo.defaultBranch ?? 'master'): any {
  const payload = loadGitHubFixture('push');
  payload.ref = `refs/heads/${branch}`;
  payload.after = sha;
  payload.head_commit.id = sha;
  payload.commits[0].id = sha;
  adaptRepository(payload.repository, repo);
  if (repo.installationId === undefined) delete payload.installation;
  else payload.installation.id = repo.installationId;
  return payload;
}

/** GitHub's pull_request payload whose head is `sha` on `branch` of the same repository. */
export function pullRequestPayload(repo: TestRepo, sha: string, branch: string, action = 'synchronize'): any {
  const payload = loadGitHubFixture('pull_request.synchronize');
  payload.action = action;
  payload.after = sha;
  payload.pull_request.head.sha = sha;
  payload.pull_request.head.ref = branch;
  adaptRepository(payload.pull_request.head.repo, repo);
  adaptRepository(payload.pull_request.base.repo, repo);
  adaptRepository(payload.repository, repo);
  if (repo.installationId === undefined) delete payload.installation;
  else payload.installation.id = repo.installationId;
  return payload;
}

export function signGitHub(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** POSTs a payload to a receiver as GitHub does; `signature` overrides the correct one. */
export async function deliverGitHub(
  receiverUrl: string,
  event: string,
  payload: unknown,
  secret: string,
  options: { deliveryId?: string; signature?: string | null; body?: string } = {},
): Promise<{ status: number; text: string; deliveryId: string; ms: number }> {
  const body = options.body ?? JSON.stringify(payload);
  const deliveryId = options.deliveryId ?? randomBytes(16).toString('hex');
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'GitHub-Hookshot/044aadd',
    'x-github-event': event,
    'x-github-delivery': deliveryId,
    'x-github-hook-id': '109948940',
  };
  const signature = options.signature === undefined ? signGitHub(secret, body) : options.signature;
  if (signature !== null) headers['x-hub-signature-256'] = signature;
  const started = performance.now();
  const res = await fetch(`${receiverUrl}/webhooks/github`, { method: 'POST', headers, body });
  const text = await res.text();
  return { status: res.status, text, deliveryId, ms: performance.now() - started };
}
