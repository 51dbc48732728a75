// The sticky comment on the pull request: GitHub's issue comment, or GitLab's merge
// request note, that holds PREVIEW_MARKER. It is looked up on every write (every page of
// the pull request's comments), edited in place when found and created only when not,
// so a pull request never gets a second one however many pushes it sees.
import type { GitHub } from '../../shared/github.js';
import type { GitLab } from '../../shared/gitlab.js';
import type { SourceRef } from '../../shared/jobs.js';
import type { Logger } from '../../shared/logger.js';
import { PREVIEW_MARKER } from './preview-comment.js';

export interface PreviewCommenter {
  /** Writes `body` to the pull request's sticky comment; 'created' or 'updated'. Throws on API errors. */
  upsert(source: SourceRef & { pullRequest: number }, body: string): Promise<'created' | 'updated' | 'skipped'>;
}

export function previewCommenter(hosts: { github: GitHub; gitlab: GitLab }, log: Logger): PreviewCommenter {
  return {
    async upsert(source, body) {
      if (source.scm === 'gitlab') return upsertGitLabNote(hosts.gitlab, source, body, log);
      return upsertGitHubComment(hosts.github, source, body, log);
    },
  };
}

async function upsertGitHubComment(github: GitHub, source: SourceRef & { pullRequest: number }, body: string, log: Logger) {
  const client = github.client(source);
  if (!client) {
    log.info({ repo: source.fullName, pullRequest: source.pullRequest }, 'preview comment (no GitHub credentials configured, not sent)');
    return 'skipped' as const;
  }
  const where = { owner: source.owner, repo: source.repo, issue_number: source.pullRequest };
  const comments = await client.paginate(client.issues.listComments, { ...where, per_page: 100 });
  const mine = comments.find((c) => c.body?.includes(PREVIEW_MARKER));
  if (mine) {
    await client.issues.updateComment({ owner: source.owner, repo: source.repo, comment_id: mine.id, body });
    return 'updated' as const;
  }
  await client.issues.createComment({ ...where, body });
  return 'created' as const;
}

async function upsertGitLabNote(gitlab: GitLab, source: SourceRef & { pullRequest: number }, body: string, log: Logger) {
  const api = gitlab.api;
  if (!api) {
    log.info({ repo: source.fullName, mergeRequest: source.pullRequest }, 'preview note (no GITLAB_TOKEN configured, not sent)');
    return 'skipped' as const;
  }
  const notes = (await api.MergeRequestNotes.all(source.repoId, source.pullRequest, { perPage: 100 })) as { id: number; body?: string }[];
  const mine = notes.find((n) => n.body?.includes(PREVIEW_MARKER));
  if (mine) {
    await api.MergeRequestNotes.edit(source.repoId, source.pullRequest, mine.id, { body });
    return 'updated' as const;
  }
  await api.MergeRequestNotes.create(source.repoId, source.pullRequest, body);
  return 'created' as const;
}
