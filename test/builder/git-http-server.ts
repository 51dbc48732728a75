// Serves bare repositories over git's smart HTTP protocol on 127.0.0.1 through the real
// `git http-backend` (CGI), optionally requiring HTTP basic auth, like a private GitHub
// repository cloned with a token (for every repository, or per path with protect()).
// Repositories sit at /<owner>/<name>.git like on GitHub and GitLab, so their URLs name
// the repository the way gitfaas checks (shared/git-origins.ts); the server's origin goes
// into GITFAAS_GIT_HOSTS.
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GitHttpServer {
  url: string;
  /** Authorization headers seen, for tests that check what git sent. */
  authorizations: string[];
  /** Requests seen ("METHOD /path"), for tests that check whether git came here at all. */
  requests: string[];
  /** Requires basic auth for paths under `pathPrefix` (e.g. "/alice/private.git"). */
  protect(pathPrefix: string, auth: { username: string; password: string }): void;
  close(): Promise<void>;
}

export interface GitHttpServerOptions {
  /** Awaited before each request is served: lets a test hold a clone in flight. */
  hold?: (path: string) => Promise<void>;
}

const basic = (auth: { username: string; password: string }) => `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;

export async function startGitHttpServer(
  projectRoot: string,
  auth?: { username: string; password: string },
  options: GitHttpServerOptions = {},
): Promise<GitHttpServer> {
  const protectedPaths: [string, string][] = auth ? [['/', basic(auth)]] : [];
  const authorizations: string[] = [];
  const requests: string[] = [];
  const server: Server = createServer(async (req, res) => {
    const header = req.headers.authorization;
    if (header) authorizations.push(header);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push(`${req.method} ${url.pathname}`);
    const expected = protectedPaths.find(([prefix]) => url.pathname.startsWith(prefix))?.[1];
    if (expected && header !== expected) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="test"' }).end('unauthorized\n');
      return;
    }
    if (options.hold) await options.hold(url.pathname);
    const cgi = spawn('git', ['http-backend'], {
      env: {
        PATH: '/usr/local/bin:/usr/bin:/bin',
        GIT_PROJECT_ROOT: projectRoot,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        HTTP_CONTENT_ENCODING: String(req.headers['content-encoding'] ?? ''),
        GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
        REMOTE_ADDR: '127.0.0.1',
      },
    });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) return void res.write(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      headersDone = true;
      let status = 200;
      for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
        const i = line.indexOf(':');
        const name = line.slice(0, i).trim();
        const value = line.slice(i + 1).trim();
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
        else res.setHeader(name, value);
      }
      res.writeHead(status);
      res.write(head.subarray(end + 4));
    });
    cgi.stdout.on('end', () => res.end());
    cgi.on('error', () => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    authorizations,
    requests,
    protect: (prefix, creds) => void protectedPaths.push([prefix, basic(creds)]),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
