// GitLab's documented webhook payloads (test/fixtures/gitlab), adapted in memory to a
// test's project, and delivered the way GitLab delivers them (X-Gitlab-Token, the secret
// token as is; X-Gitlab-Event; X-Gitlab-Event-UUID).
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './repo-root.js';

export function loadGitLabFixture(name: 'push' | 'merge_request'): any {
  return JSON.parse(readFileSync(path.join(repoRoot(), 'test/fixtures/gitlab', `${name}.json`), 'utf8'));
}

export interface GitLabTestProject {
  /** Top-level namespace (user or group), e.g. "alice". */
  owner: string;
  name: string;
  id: number;
  cloneUrl: string;
  defaultBranch?: string;
  private?: boolean;
}

function adaptProject(project: any, p: GitLabTestProject): void {
  project.id = p.id;
  project.name = p.name;
  project.path_with_namespace = `${p.owner}/${p.name}`;
  project.namespace = p.owner;
  project.git_http_url = p.cloneUrl;
  project.http_url = p.cloneUrl;
  project.visibility_level = p.private ? 0 : 20;
  project.default_branch = p.defaultBranch ?? 'main';
}

/** GitLab's Push Hook for `sha` on `branch` of the project. */
export function gitlabPushPayload(p: GitLabTestProject, sha: string, branch = p.defaultBranch ?? 'main'): any {
  const payload = loadGitLabFixture('push');
  payload.ref = `refs/heads/${branch}`;
  payload.after = sha;
  payload.checkout_sha = sha;
  payload.project_id = p.id;
  adaptProject(payload.project, p);
  payload.repository.git_http_url = p.cloneUrl;
  return payload;
}

/** GitLab's Merge Request Hook (opened) whose head is `sha` on `branch` of the same project. */
export function gitlabMergeRequestPayload(p: GitLabTestProject, sha: string, branch: string, action = 'open'): any {
  const payload = loadGitLabFixture('merge_request');
  adaptProject(payload.project, p);
  const attrs = payload.object_attributes;
  attrs.action = action;
  attrs.state = 'opened';
  attrs.source_branch = branch;
  attrs.target_branch = p.defaultBranch ?? 'main';
  attrs.source_project_id = p.id;
  attrs.target_project_id = p.id;
  attrs.last_commit.id = sha;
  adaptProject(attrs.source, p);
  adaptProject(attrs.target, p);
  delete attrs.source.id;
  return payload;
}

/** POSTs a payload to a receiver as GitLab does; `token: null` leaves X-Gitlab-Token out. */
export async function deliverGitLab(
  receiverUrl: string,
  event: string,
  payload: unknown,
  token: string | null,
  options: { uuid?: string; body?: string } = {},
): Promise<{ status: number; text: string; uuid: string }> {
  const uuid = options.uuid ?? randomUUID();
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'GitLab/17.5.0',
    'x-gitlab-event': event,
    'x-gitlab-event-uuid': uuid,
    'x-gitlab-instance': 'https://gitlab.example.com',
  };
  if (token !== null) headers['x-gitlab-token'] = token;
  const res = await fetch(`${receiverUrl}/webhooks/gitlab`, { method: 'POST', headers, body: options.body ?? JSON.stringify(payload) });
  return { status: res.status, text: await res.text(), uuid };
}
