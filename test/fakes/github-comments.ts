// GitHub's issue comments on pull requests, for the GitHub API stand-in (github-api.ts):
// GET /repos/:owner/:repo/issues/:n/comments (paged as GitHub pages: per_page up to 100,
// default 30, a Link header with rel="next" and rel="last"), POST the same to create,
// PATCH /repos/:owner/:repo/issues/comments/:id to edit. A pull request the test did not
// open is 404, as is a comment of another repository; a comment without a body is 422.
import type { ServerResponse } from 'node:http';

export interface IssueComment {
  id: number;
  owner: string;
  repo: string;
  issue: number;
  body: string;
  user: string;
  created_at: string;
  updated_at: string;
  /** Every body the comment had, in order (the first is the one it was created with). */
  edits: string[];
}

export interface GitHubComments {
  /** Makes the pull request exist (its comments can be listed and created). */
  addPullRequest(fullName: string, number: number): void;
  /** Comments on one pull request, oldest first. */
  on(fullName: string, number: number): IssueComment[];
  /** A comment by someone else (to give a pull request pages of comments). */
  addComment(fullName: string, number: number, body: string, user?: string): IssueComment;
  /** Answers the request when it is a comments route; false otherwise. */
  route(method: string, url: URL, body: any, res: ServerResponse, origin: string): boolean;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

const NOT_FOUND = { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/issues/comments' };

export function createGitHubComments(botLogin = 'gitfaas[bot]'): GitHubComments {
  const pulls = new Set<string>();
  const comments: IssueComment[] = [];
  let nextId = 9_000_001;
  const pr = (fullName: string, n: number) => `${fullName.toLowerCase()}#${n}`;
  const add = (owner: string, repo: string, issue: number, body: string, user: string): IssueComment => {
    const now = new Date().toISOString();
    const comment = { id: nextId++, owner, repo, issue, body, user, created_at: now, updated_at: now, edits: [body] };
    comments.push(comment);
    return comment;
  };
  const wire = (c: IssueComment, origin: string) => ({
    id: c.id,
    body: c.body,
    user: { login: c.user, type: 'Bot' },
    created_at: c.created_at,
    updated_at: c.updated_at,
    html_url: `${origin}/${c.owner}/${c.repo}/pull/${c.issue}#issuecomment-${c.id}`,
    issue_url: `${origin}/repos/${c.owner}/${c.repo}/issues/${c.issue}`,
  });

  return {
    addPullRequest: (fullName, n) => void pulls.add(pr(fullName, n)),
    on: (fullName, n) => comments.filter((c) => pr(`${c.owner}/${c.repo}`, c.issue) === pr(fullName, n)),
    addComment(fullName, n, body, user = 'someone') {
      const [owner, repo] = fullName.split('/');
      return add(owner!, repo!, n, body, user);
    },
    route(method, url, body, res, origin) {
      let m = /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/.exec(url.pathname);
      if (m) {
        const [, owner, repo] = m as unknown as [string, string, string];
        const issue = Number(m[3]);
        if (!pulls.has(pr(`${owner}/${repo}`, issue))) return send(res, 404, NOT_FOUND), true;
        if (method === 'GET') {
          const all = comments.filter((c) => pr(`${c.owner}/${c.repo}`, c.issue) === pr(`${owner}/${repo}`, issue));
          const perPage = Math.min(100, Math.max(1, Number(url.searchParams.get('per_page') ?? 30) || 30));
          const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1);
          const last = Math.max(1, Math.ceil(all.length / perPage));
          const link = (p: number, rel: string) => `<${origin}${url.pathname}?per_page=${perPage}&page=${p}>; rel="${rel}"`;
          const links = [...(page < last ? [link(page + 1, 'next'), link(last, 'last')] : []), ...(page > 1 ? [link(1, 'first'), link(page - 1, 'prev')] : [])];
          send(res, 200, all.slice((page - 1) * perPage, page * perPage).map((c) => wire(c, origin)), links.length ? { link: links.join(', ') } : {});
          return true;
        }
        if (method === 'POST') {
          if (typeof body?.body !== 'string' || !body.body) return send(res, 422, { message: 'Validation Failed', errors: [{ resource: 'IssueComment', field: 'body', code: 'missing_field' }] }), true;
          send(res, 201, wire(add(owner, repo, issue, body.body, botLogin), origin));
          return true;
        }
        return send(res, 404, NOT_FOUND), true;
      }
      m = /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/.exec(url.pathname);
      if (m && method === 'PATCH') {
        const comment = comments.find((c) => c.id === Number(m![3]) && `${c.owner}/${c.repo}`.toLowerCase() === `${m![1]}/${m![2]}`.toLowerCase());
        if (!comment) return send(res, 404, NOT_FOUND), true;
        if (typeof body?.body !== 'string' || !body.body) return send(res, 422, { message: 'Validation Failed', errors: [{ resource: 'IssueComment', field: 'body', code: 'missing_field' }] }), true;
        comment.body = body.body;
        comment.updated_at = new Date().toISOString();
        comment.edits.push(body.body);
        send(res, 200, wire(comment, origin));
        return true;
      }
      return false;
    },
  };
}
