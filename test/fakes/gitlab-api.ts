// A stand-in for the GitLab REST API (v4) on 127.0.0.1, speaking the route gitfaas uses
// (POST /api/v4/projects/:id/statuses/:sha; GET /api/v4/projects/:id and
// GET /api/v4/projects/:id/repository/branches/:branch for the projects a test adds, 404
// otherwise) and recording every call. The code under
// test reaches it through the real @gitbeaker/rest client with host pointed here. It
// checks the PRIVATE-TOKEN header and refuses same-state transitions as GitLab does.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeOAuth, type OAuthClientRegistration } from './oauth.js';
import { createGitLabNotes, type GitLabNotes } from './gitlab-notes.js';

export interface GitLabStatus {
  projectId: string;
  sha: string;
  state: string;
  name: string;
  description?: string;
  targetUrl?: string;
  ref?: string;
  at: number;
}

export interface FakeGitLab {
  url: string;
  statuses: GitLabStatus[];
  /** Makes GET /api/v4/projects/:id answer for this project ("group/sub/name"). */
  addProject(project: { id: number; pathWithNamespace: string }): void;
  /** Moves a branch of an added project: GET .../repository/branches/:branch answers this sha. */
  setBranch(projectId: number, branch: string, sha: string): void;
  /** Makes the next `count` calls whose path matches answer `status`. */
  failNext(pathPattern: RegExp, status: number, count?: number): void;
  /** Latest state per status name for one sha. */
  latestFor(sha: string): Map<string, GitLabStatus>;
  /** The OAuth web flow, when options.oauth is given: approveAs(login) picks who signs in. */
  oauth?: FakeOAuth;
  /** Merge request notes (gitlab-notes.ts). */
  notes: GitLabNotes;
  stop(): Promise<void>;
}

const STATES = new Set(['pending', 'running', 'success', 'failed', 'canceled']);

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return {};
  if ((req.headers['content-type'] ?? '').includes('application/json')) return JSON.parse(text);
  return Object.fromEntries(new URLSearchParams(text));
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** GitLab's OAuth web flow (Doorkeeper): a bad code is 400 invalid_grant. */
async function oauthRoute(oauth: FakeOAuth, req: IncomingMessage, url: URL, res: ServerResponse): Promise<void> {
  if (url.pathname === '/oauth/authorize' && req.method === 'GET') {
    if (url.searchParams.get('response_type') !== 'code') return send(res, 400, { error: 'unsupported_response_type' });
    const answer = oauth.authorize(url.searchParams);
    if (answer.location) {
      res.writeHead(302, { location: answer.location });
      return void res.end();
    }
    return send(res, answer.status === 404 ? 401 : answer.status, { error: 'invalid_client', error_description: answer.message });
  }
  if (url.pathname === '/oauth/token' && req.method === 'POST') {
    const body = (await readBody(req)) as Record<string, string | undefined>;
    if (body.grant_type !== 'authorization_code') return send(res, 400, { error: 'unsupported_grant_type' });
    const result = oauth.exchange(body);
    if ('token' in result) return send(res, 200, { access_token: result.token, token_type: 'Bearer', expires_in: 7200, scope: 'read_user', created_at: Math.floor(Date.now() / 1000) });
    const error = result.error === 'incorrect_client_credentials' ? 'invalid_client' : 'invalid_grant';
    return send(res, error === 'invalid_client' ? 401 : 400, { error, error_description: result.description });
  }
  const login = oauth.user(req.headers.authorization);
  if (!login) return send(res, 401, { message: '401 Unauthorized' });
  send(res, 200, { id: login.length * 1000 + 11, username: login, name: login, state: 'active' });
}

export async function startFakeGitLab(options: { token: string; oauth?: OAuthClientRegistration }): Promise<FakeGitLab> {
  const oauth = options.oauth ? new FakeOAuth(options.oauth, 'gloas-') : undefined;
  const statuses: GitLabStatus[] = [];
  const projects = new Map<number, { id: number; pathWithNamespace: string }>();
  const branches = new Map<number, Map<string, string>>();
  const failures: { pattern: RegExp; status: number; count: number }[] = [];
  const notes = createGitLabNotes();
  const latestFor = (sha: string) => {
    const latest = new Map<string, GitLabStatus>();
    for (const status of statuses) if (status.sha === sha) latest.set(status.name, status);
    return latest;
  };
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (oauth && (url.pathname.startsWith('/oauth/') || (url.pathname === '/api/v4/user' && req.method === 'GET'))) return await oauthRoute(oauth, req, url, res);
      if (req.headers['private-token'] !== options.token) return send(res, 401, { message: '401 Unauthorized' });
      const failure = failures.find((f) => f.pattern.test(url.pathname) && f.count > 0);
      if (failure) {
        failure.count -= 1;
        return send(res, failure.status, { message: 'injected failure' });
      }
      if (/\/merge_requests\//.test(url.pathname)) {
        const body = req.method === 'GET' ? {} : await readBody(req);
        if (notes.route(req.method ?? '', url, body, res, `http://127.0.0.1:${(server.address() as AddressInfo).port}`)) return;
      }
      const branchRoute = /^\/api\/v4\/projects\/(\d+)\/repository\/branches\/(.+)$/.exec(url.pathname);
      if (branchRoute && req.method === 'GET') {
        const id = Number(branchRoute[1]);
        if (!projects.has(id)) return send(res, 404, { message: '404 Project Not Found' });
        const branch = decodeURIComponent(branchRoute[2]!);
        const sha = branches.get(id)?.get(branch);
        if (!sha) return send(res, 404, { message: '404 Branch Not Found' });
        return send(res, 200, { name: branch, commit: { id: sha, short_id: sha.slice(0, 8) }, merged: false, protected: false, default: branch === 'main' });
      }
      const byId = /^\/api\/v4\/projects\/(\d+)$/.exec(url.pathname);
      if (byId && req.method === 'GET') {
        const project = projects.get(Number(byId[1]));
        if (!project) return send(res, 404, { message: '404 Project Not Found' });
        const path = project.pathWithNamespace;
        return send(res, 200, { id: project.id, name: path.split('/').pop(), path_with_namespace: path, namespace: { full_path: path.split('/').slice(0, -1).join('/') } });
      }
      const match = /^\/api\/v4\/projects\/([^/]+)\/statuses\/([0-9a-f]{40})$/.exec(url.pathname);
      if (req.method !== 'POST' || !match) return send(res, 404, { message: '404 Not Found' });
      const body = { ...Object.fromEntries(url.searchParams), ...(await readBody(req)) } as Record<string, string | undefined>;
      const state = String(body.state ?? '');
      if (!STATES.has(state)) return send(res, 400, { message: 'state is missing or invalid' });
      const projectId = decodeURIComponent(match[1]!);
      const sha = match[2]!;
      const name = body.name ?? body.context ?? 'default';
      const previous = latestFor(sha).get(name);
      if (previous && previous.state === state) {
        return send(res, 400, { message: `Cannot transition status via :${state} from :${state}` });
      }
      const status: GitLabStatus = {
        projectId, sha, state, name, description: body.description, targetUrl: body.target_url, ref: body.ref, at: Date.now(),
      };
      statuses.push(status);
      send(res, 201, { id: statuses.length, sha, status: state, name, description: status.description, target_url: status.targetUrl });
    } catch (err) {
      send(res, 500, { message: String(err) });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    statuses,
    latestFor,
    oauth,
    notes,
    addProject: (project) => void projects.set(project.id, project),
    setBranch(projectId, branch, sha) {
      if (!branches.has(projectId)) branches.set(projectId, new Map());
      branches.get(projectId)!.set(branch, sha);
    },
    failNext: (pattern, status, count = 1) => void failures.push({ pattern, status, count }),
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
