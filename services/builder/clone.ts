// Fetches only the pushed commit (git init + fetch --depth 1 origin <sha>) into a work
// directory of its own. Credentials for a private repository go to git as an
// http.<origin>/.extraHeader given through GIT_CONFIG_* environment variables: never on
// the command line (any local user reads argv in ps), never in the remote URL, never in
// .git/config on disk, never in a log line or an error message. Scoped to the clone
// URL's origin, with redirects off, they reach no other host.
import { mkdir, rm } from 'node:fs/promises';
import { simpleGit } from 'simple-git';
import { gitConfigEnvironment } from '../../shared/git-config-env.js';

export interface CloneRequest {
  url: string;
  sha: string;
  dir: string;
  /** For a private repository: username and token for HTTP basic auth. */
  credentials?: { username: string; password: string };
  timeoutMs: number;
}

export class CloneError extends Error {
  override name = 'CloneError';
}

/** Removes every form in which the credentials could appear from a message. */
function scrub(text: string, credentials: CloneRequest['credentials']): string {
  if (!credentials) return text;
  let out = text;
  const basic = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
  for (const secret of [basic, credentials.password]) if (secret) out = out.split(secret).join('[redacted]');
  return out;
}

/**
 * What git needs from the service's environment, and nothing else: editors, pagers,
 * askpass helpers and GIT_* variables from the host never steer a clone (simple-git
 * refuses several of them, EDITOR among them, which `npm run` and shells often set), and
 * git never waits on a terminal prompt for credentials.
 */
const PASSED_TO_GIT = [
  'PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'SSL_CERT_FILE', 'SSL_CERT_DIR',
  'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy',
];

export function gitEnvironment(): Record<string, string> {
  const env: Record<string, string> = { GIT_TERMINAL_PROMPT: '0' };
  for (const key of PASSED_TO_GIT) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

export async function cloneCommit(req: CloneRequest): Promise<void> {
  await rm(req.dir, { recursive: true, force: true });
  await mkdir(req.dir, { recursive: true });
  const config = gitConfigEnvironment(req.url, req.credentials);
  const git = simpleGit({
    baseDir: req.dir,
    timeout: { block: req.timeoutMs },
    allowEnvironment: ['GIT_TERMINAL_PROMPT', ...Object.keys(config)],
    // simple-git refuses GIT_CONFIG_COUNT by default (it can switch on unsafe settings);
    // here gitfaas sets it itself, to exactly the entries above.
    unsafe: { allowUnsafeConfigEnvCount: true },
  })
    .env({ ...gitEnvironment(), ...config });
  try {
    await git.init();
    await git.addRemote('origin', req.url);
    await git.fetch(['--depth', '1', '--no-tags', 'origin', req.sha]);
    await git.raw(['-c', 'advice.detachedHead=false', 'checkout', '--detach', 'FETCH_HEAD']);
    const head = (await git.revparse(['HEAD'])).trim();
    if (head !== req.sha) throw new Error(`checked out ${head}, expected ${req.sha}`);
  } catch (err) {
    const message = scrub((err as Error).message ?? String(err), req.credentials).trim().split('\n').slice(0, 6).join(' ');
    throw new CloneError(`clone of ${req.url} at ${req.sha.slice(0, 7)} failed: ${message}`);
  }
}
