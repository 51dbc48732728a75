// GitLab's Push Hook and Merge Request Hook, normalised at the edge into the same
// SourceRef a GitHub event becomes, so one builder and one deployer serve both hosts.
import { z } from 'zod';
import type { SourceRef } from '../../shared/jobs.js';
import { ownerNamespace } from '../../shared/names.js';

const ZERO_SHA = /^0{40}$/;
/** GitLab's visibility_level: 0 private, 10 internal, 20 public. */
const PUBLIC = 20;

const Project = z.object({
  id: z.number().int(),
  name: z.string(),
  path_with_namespace: z.string().min(1),
  git_http_url: z.string().min(1),
  visibility_level: z.number().int(),
  default_branch: z.string().nullish(),
});

const PushHook = z.object({
  object_kind: z.literal('push'),
  ref: z.string(),
  after: z.string(),
  checkout_sha: z.string().nullish(),
  user_username: z.string().nullish(),
  project: Project,
});

const MergeRequestHook = z.object({
  object_kind: z.literal('merge_request'),
  user: z.object({ username: z.string().nullish() }).nullish(),
  project: Project,
  object_attributes: z.object({
    iid: z.number().int(),
    action: z.string().optional(),
    oldrev: z.string().optional(),
    state: z.string(),
    source_branch: z.string(),
    source_project_id: z.number().int().nullish(),
    target_project_id: z.number().int().nullish(),
    source: Project.omit({ id: true }).partial({ default_branch: true }),
    last_commit: z.object({ id: z.string() }),
  }),
});

export type GitLabEvent =
  | { action: 'build'; kind: 'push' | 'pull_request'; source: SourceRef; pushedBy?: string }
  /** A merge request closed or merged: its previews go (services/deployer/preview-remove.ts). */
  | { action: 'close-preview'; reason: 'closed' | 'merged'; source: SourceRef & { pullRequest: number } }
  /** A push to another branch: no build, but the commit gets a status saying why. */
  | { action: 'skip'; source: SourceRef; reason: string }
  | { action: 'ignore'; reason: string };

export class GitLabPayloadError extends Error {
  override name = 'GitLabPayloadError';
}

function parse<T extends z.ZodType>(schema: T, payload: unknown, event: string): z.output<T> {
  const result = schema.safeParse(payload);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
  throw new GitLabPayloadError(`malformed ${event} payload: ${problems}`);
}

/** The owner of a project is the top-level namespace of its path ("group/sub/project" -> "group"). */
function projectOwner(pathWithNamespace: string): string {
  return pathWithNamespace.split('/')[0]!;
}

function sourceOf(project: z.infer<typeof Project>, sha: string, branch: string, cloneFrom = project): SourceRef {
  const owner = projectOwner(project.path_with_namespace);
  return {
    scm: 'gitlab',
    owner,
    repo: project.path_with_namespace.slice(owner.length + 1),
    fullName: project.path_with_namespace,
    repoId: project.id,
    cloneUrl: cloneFrom.git_http_url,
    private: cloneFrom.visibility_level !== PUBLIC,
    sha,
    branch,
    defaultBranch: project.default_branch ?? 'main',
    namespace: ownerNamespace('gitlab', owner),
  };
}

/** Merge request actions that bring a new head commit to build. */
function mergeRequestBuilds(action: string | undefined, oldrev: string | undefined): boolean {
  return action === 'open' || action === 'reopen' || (action === 'update' && oldrev !== undefined);
}

/** Turns a verified GitLab webhook (X-Gitlab-Event and parsed JSON body) into what to do. */
export function normaliseGitLabEvent(eventHeader: string, payload: unknown): GitLabEvent {
  if (eventHeader === 'Push Hook') {
    const push = parse(PushHook, payload, 'Push Hook');
    if (!push.ref.startsWith('refs/heads/')) return { action: 'ignore', reason: `push to ${push.ref} is not a branch` };
    const sha = push.checkout_sha ?? push.after;
    if (ZERO_SHA.test(push.after) || !/^[0-9a-f]{40}$/.test(sha)) {
      return { action: 'ignore', reason: `branch ${push.ref} was deleted` };
    }
    const branch = push.ref.slice('refs/heads/'.length);
    const source = sourceOf(push.project, sha, branch);
    if (branch !== source.defaultBranch) {
      return { action: 'skip', source, reason: `push to ${branch}, not the default branch ${source.defaultBranch}: not deployed` };
    }
    return { action: 'build', kind: 'push', source, ...(push.user_username ? { pushedBy: push.user_username } : {}) };
  }
  if (eventHeader === 'Merge Request Hook') {
    const mr = parse(MergeRequestHook, payload, 'Merge Request Hook');
    const attrs = mr.object_attributes;
    // A merge request from another project (a fork) runs that project's code.
    const fork = attrs.source_project_id != null && attrs.target_project_id != null && attrs.source_project_id !== attrs.target_project_id;
    const mrSource = () => ({
      ...sourceOf(mr.project, attrs.last_commit.id, attrs.source_branch, { ...mr.project, ...attrs.source }),
      pullRequest: attrs.iid,
      ...(fork ? { fork: true } : {}),
    });
    if (attrs.action === 'close' || attrs.action === 'merge') {
      if (!/^[0-9a-f]{40}$/.test(attrs.last_commit.id)) return { action: 'ignore', reason: `merge request !${attrs.iid}: last_commit.id is not a commit sha` };
      return { action: 'close-preview', reason: attrs.action === 'merge' ? 'merged' : 'closed', source: mrSource() };
    }
    if (attrs.state !== 'opened' || !mergeRequestBuilds(attrs.action, attrs.oldrev)) {
      return { action: 'ignore', reason: `merge request !${attrs.iid} ${attrs.action ?? attrs.state}: nothing new to build` };
    }
    const source = mrSource();
    const by = mr.user?.username;
    return { action: 'build', kind: 'pull_request', source, ...(by ? { pushedBy: by } : {}) };
  }
  return { action: 'ignore', reason: `event ${eventHeader || '(none)'} is not one gitfaas builds` };
}
