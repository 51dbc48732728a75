// A stand-in for the GitHub REST API on 127.0.0.1, speaking the routes gitfaas uses
// (commit statuses, check runs, installation access tokens, GET repository, GET
// repository by id and GET a branch: only repositories a test adds, 404 otherwise, as
// GitHub answers for a repository the token or installation cannot see) and recording
// every call. The code under test reaches it through the real @octokit/rest client with
// baseUrl pointed here. It checks credentials as GitHub does: a personal token, or an App
// JWT (RS256, verified with the App's public key) to mint installation tokens.
import { createPublicKey, createVerify, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeOAuth, type OAuthClientRegistration } from './oauth.js';
import { createGitHubComments, type GitHubComments } from './github-comments.js';

export interface RecordedCall {
  method: string;
  path: string;
  body: any;
  auth: string | undefined;
  at: number;
}

export interface CommitStatus {
  owner: string;
  repo: string;
  sha: string;
  state: string;
  context: string;
  description?: string;
  target_url?: string;
  at: number;
}

export interface CheckRun {
  id: number;
  owner: string;
  repo: string;
  head_sha: string;
  name: string;
  status: string;
  conclusion?: string;
  details_url?: string;
  output?: { title?: string; summary?: string; text?: string };
  /** Every state the run went through, in order. */
  history: { status: string; conclusion?: string; title?: string }[];
}

/** A repository GET /repositories/:id knows; with installationId, only that installation's tokens see it. */
export interface FakeRepository {
  id: number;
  owner: string;
  name: string;
  private?: boolean;
  installationId?: number;
}

export interface FakeGitHubOptions {
  /** Accept this personal token. */
  token?: string;
  /** Accept App JWTs signed by this App's key (PEM public or private key). */
  app?: { appId: number; publicKey: string | KeyObject };
  /** An OAuth App for the web sign-in flow (/login/oauth/authorize, /login/oauth/access_token, GET /user). */
  oauth?: OAuthClientRegistration;
}

export interface FakeGitHub {
  url: string;
  calls: RecordedCall[];
  statuses: CommitStatus[];
  checkRuns: Map<number, CheckRun>;
  installationTokens: string[];
  /** Statuses for one sha, in arrival order, optionally for one context. */
  statusesFor(sha: string, context?: string): CommitStatus[];
  /** Latest state per context for one sha (statuses or check runs, whichever is used). */
  latestFor(sha: string): Map<string, { state: string; description?: string; targetUrl?: string }>;
  /** Makes GET /repositories/:id answer for this repository. */
  addRepository(repo: FakeRepository): void;
  /** Moves a branch of an added repository: GET /repos/:owner/:repo/branches/:branch answers this sha. */
  setBranch(fullName: string, branch: string, sha: string): void;
  /** Makes the next `count` calls matching `path` answer `status`. */
  failNext(pathPattern: RegExp, status: number, count?: number): void;
  /** The OAuth web flow, when options.oauth is given: approveAs(login) picks who signs in. */
  oauth?: FakeOAuth;
  /** Pull requests' issue comments (github-comments.ts). */
  comments: GitHubComments;
  stop(): Promise<void>;
}

/** A fresh App key pair, PKCS#1 PEM like the keys GitHub hands out. */
export function generateAppKey(): { privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKey, publicKey };
}

function verifyAppJwt(jwt: string, publicKey: KeyObject, appId: number): boolean {
  const [header, payload, signature] = jwt.split('.');
  if (!header || !payload || !signature) return false;
  const verifier = createVerify('RSA-SHA256');
  verifier.update(`${header}.${payload}`);
  if (!verifier.verify(publicKey, Buffer.from(signature, 'base64url'))) return false;
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { iss: unknown; exp: number };
  return String(claims.iss) === String(appId) && claims.exp * 1000 > Date.now();
}

async function readJson(req: IncomingMessage): Promise<any> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

/** GitHub's OAuth web flow: a bad code is answered 200 with an "error" field, as GitHub does. */
function oauthRoute(oauth: FakeOAuth, method: string, path: string, query: URLSearchParams, body: any, auth: string | undefined, res: ServerResponse): void {
  if (path === '/login/oauth/authorize' && method === 'GET') {
    const answer = oauth.authorize(query);
    if (answer.location) {
      res.writeHead(302, { location: answer.location });
      return void res.end();
    }
    res.writeHead(answer.status, { 'content-type': 'text/plain' });
    return void res.end(answer.message);
  }
  if (path === '/login/oauth/access_token' && method === 'POST') {
    const result = oauth.exchange(body ?? {});
    if ('token' in result) return send(res, 200, { access_token: result.token, token_type: 'bearer', scope: 'read:user' });
    return send(res, 200, { error: result.error, error_description: result.description, error_uri: 'https://docs.github.com/apps' });
  }
  if (path === '/user' && method === 'GET') {
    const login = oauth.user(auth);
    if (!login) return send(res, 401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
    return send(res, 200, { login, id: login.length * 1000 + 7, type: 'User' });
  }
  send(res, 404, { message: 'Not Found' });
}

/** What GitHub accepts: anything else is a 422, as there. */
const STATUS_STATES = new Set(['error', 'failure', 'pending', 'success']);
const CONCLUSIONS = new Set(['action_required', 'cancelled', 'failure', 'neutral', 'success', 'skipped', 'stale', 'timed_out']);

export async function startFakeGitHub(options: FakeGitHubOptions): Promise<FakeGitHub> {
  const calls: RecordedCall[] = [];
  const statuses: CommitStatus[] = [];
  const checkRuns = new Map<number, CheckRun>();
  const installationTokens: string[] = [];
  const tokenInstallation = new Map<string, number>();
  const repositories = new Map<number, FakeRepository>();
  /** "owner/name" (lower case) -> branch -> sha. */
  const branches = new Map<string, Map<string, string>>();
  const failures: { pattern: RegExp; status: number; count: number }[] = [];
  let nextCheckRunId = 1000;
  const oauth = options.oauth ? new FakeOAuth(options.oauth, 'gho_') : undefined;
  const comments = createGitHubComments();
  const appKey = options.app
    ? typeof options.app.publicKey === 'string'
      ? createPublicKey(options.app.publicKey)
      : options.app.publicKey
    : undefined;

  const authorisedForRepo = (auth: string | undefined): boolean => {
    const token = auth?.replace(/^(token|bearer)\s+/i, '');
    if (!token) return false;
    return token === options.token || installationTokens.includes(token);
  };

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const path = url.pathname;
      const body = await readJson(req);
      const auth = req.headers.authorization;
      calls.push({ method: req.method ?? '', path, body, auth, at: Date.now() });
      if (oauth && (path.startsWith('/login/oauth/') || path === '/user')) return oauthRoute(oauth, req.method ?? '', path, url.searchParams, body, auth, res);
      const failure = failures.find((f) => f.pattern.test(path) && f.count > 0);
      if (failure) {
        failure.count -= 1;
        return send(res, failure.status, { message: 'injected failure' });
      }

      let m = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(path);
      if (m && req.method === 'POST') {
        const jwt = auth?.replace(/^bearer\s+/i, '') ?? '';
        if (!appKey || !options.app || !verifyAppJwt(jwt, appKey, options.app.appId)) {
          return send(res, 401, { message: 'A JSON web token could not be decoded' });
        }
        const token = `ghs_${randomBytes(18).toString('hex')}`;
        installationTokens.push(token);
        tokenInstallation.set(token, Number(m[1]));
        return send(res, 201, {
          token,
          expires_at: new Date(Date.now() + 3600_000).toISOString(),
          permissions: { checks: 'write', statuses: 'write', contents: 'read' },
          repository_selection: 'all',
        });
      }
      if (!authorisedForRepo(auth)) return send(res, 401, { message: 'Bad credentials' });
      if (comments.route(req.method ?? '', url, body, res, `http://127.0.0.1:${(server.address() as AddressInfo).port}`)) return;

      m = /^\/repos\/([^/]+)\/([^/]+)\/statuses\/([0-9a-f]{40})$/.exec(path);
      if (m && req.method === 'POST') {
        const [, owner, repo, sha] = m;
        if (!STATUS_STATES.has(body.state)) return send(res, 422, { message: 'Validation Failed', errors: [{ field: 'state', code: 'invalid' }] });
        const status: CommitStatus = { owner, repo, sha, ...body, at: Date.now() };
        statuses.push(status);
        return send(res, 201, { id: statuses.length, ...status });
      }
      if (/\/check-runs/.test(path) && body.conclusion !== undefined && !CONCLUSIONS.has(body.conclusion)) {
        return send(res, 422, { message: 'Validation Failed', errors: [{ field: 'conclusion', code: 'invalid' }] });
      }
      m = /^\/repos\/([^/]+)\/([^/]+)\/check-runs$/.exec(path);
      if (m && req.method === 'POST') {
        const [, owner, repo] = m;
        const id = nextCheckRunId++;
        const run: CheckRun = {
          id,
          owner,
          repo,
          head_sha: body.head_sha,
          name: body.name,
          status: body.status ?? 'queued',
          conclusion: body.conclusion,
          details_url: body.details_url,
          output: body.output,
          history: [{ status: body.status ?? 'queued', conclusion: body.conclusion, title: body.output?.title }],
        };
        checkRuns.set(id, run);
        return send(res, 201, run);
      }
      m = /^\/repos\/([^/]+)\/([^/]+)\/check-runs\/(\d+)$/.exec(path);
      if (m && req.method === 'PATCH') {
        const run = checkRuns.get(Number(m[3]));
        if (!run) return send(res, 404, { message: 'Not Found' });
        Object.assign(run, {
          status: body.status ?? run.status,
          conclusion: body.conclusion ?? run.conclusion,
          details_url: body.details_url ?? run.details_url,
          output: body.output ?? run.output,
        });
        run.history.push({ status: run.status, conclusion: run.conclusion, title: body.output?.title });
        return send(res, 200, run);
      }
      m = /^\/repositories\/(\d+)$/.exec(path);
      if (m && req.method === 'GET') {
        const repo = repositories.get(Number(m[1]));
        const installation = tokenInstallation.get(auth?.replace(/^(token|bearer)\s+/i, '') ?? '');
        const visible = repo && (installation === undefined || repo.installationId === undefined || repo.installationId === installation);
        if (!visible) return send(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/repos/repos#get-a-repository' });
        return send(res, 200, {
          id: repo.id,
          name: repo.name,
          full_name: `${repo.owner}/${repo.name}`,
          owner: { login: repo.owner, type: 'User' },
          private: repo.private ?? false,
          default_branch: 'main',
        });
      }
      m = /^\/repos\/([^/]+)\/([^/]+)\/branches\/(.+)$/.exec(path);
      if (m && req.method === 'GET') {
        const [owner, name, branch] = [m[1]!, m[2]!, decodeURIComponent(m[3]!)];
        const repo = [...repositories.values()].find((r) => `${r.owner}/${r.name}`.toLowerCase() === `${owner}/${name}`.toLowerCase());
        const installation = tokenInstallation.get(auth?.replace(/^(token|bearer)\s+/i, '') ?? '');
        const visible = repo && (installation === undefined || repo.installationId === undefined || repo.installationId === installation);
        if (!visible) return send(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/branches/branches#get-a-branch' });
        const sha = branches.get(`${owner}/${name}`.toLowerCase())?.get(branch);
        if (!sha) return send(res, 404, { message: 'Branch not found', documentation_url: 'https://docs.github.com/rest/branches/branches#get-a-branch' });
        return send(res, 200, { name: branch, commit: { sha, url: `${url.origin}/repos/${owner}/${name}/commits/${sha}` }, protected: false });
      }
      m = /^\/repos\/([^/]+)\/([^/]+)$/.exec(path);
      if (m && req.method === 'GET') {
        return send(res, 200, { name: m[2], full_name: `${m[1]}/${m[2]}`, default_branch: 'master', private: false });
      }
      send(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
    } catch (err) {
      send(res, 500, { message: (err as Error).message });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    statuses,
    checkRuns,
    installationTokens,
    statusesFor: (sha, context) => statuses.filter((s) => s.sha === sha && (context === undefined || s.context === context)),
    latestFor(sha) {
      const latest = new Map<string, { state: string; description?: string; targetUrl?: string }>();
      for (const s of statuses.filter((x) => x.sha === sha)) {
        latest.set(s.context, { state: s.state, description: s.description, targetUrl: s.target_url });
      }
      for (const run of checkRuns.values()) {
        if (run.head_sha !== sha) continue;
        latest.set(run.name, {
          state: run.status === 'completed' ? (run.conclusion ?? 'completed') : 'pending',
          description: run.output?.title,
          targetUrl: run.details_url,
        });
      }
      return latest;
    },
    addRepository(repo) {
      repositories.set(repo.id, repo);
    },
    setBranch(fullName, branch, sha) {
      const key = fullName.toLowerCase();
      if (!branches.has(key)) branches.set(key, new Map());
      branches.get(key)!.set(branch, sha);
    },
    failNext(pattern, status, count = 1) {
      failures.push({ pattern, status, count });
    },
    oauth,
    comments,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
