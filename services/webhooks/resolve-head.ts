// The commit at the head of a repository's branch, asked of the git host with
// `git ls-remote` (what a rebuild of "the default branch" builds). Credentials for a
// private repository go to git through GIT_CONFIG_* environment variables: never in argv
// (visible in ps), never in the URL, never in a message.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { gitConfigEnvironment } from '../../shared/git-config-env.js';

const run = promisify(execFile);

export class HeadNotFound extends Error {
  override name = 'HeadNotFound';
}

export async function resolveBranchHead(
  cloneUrl: string,
  branch: string,
  credentials?: { username: string; password: string },
  timeoutMs = 20_000,
): Promise<string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', GIT_TERMINAL_PROMPT: '0', HOME: process.env.HOME ?? '/tmp' };
  // The header for the URL's origin only, and no redirects (shared/git-config-env.ts).
  Object.assign(env, gitConfigEnvironment(cloneUrl, credentials));
  let stdout: string;
  try {
    ({ stdout } = await run('git', ['ls-remote', '--', cloneUrl, `refs/heads/${branch}`], { env, timeout: timeoutMs }));
  } catch (err) {
    const text = String((err as { stderr?: string }).stderr ?? (err as Error).message).trim().split('\n').slice(0, 3).join(' ');
    const scrubbed = credentials ? text.split(credentials.password).join('[redacted]') : text;
    throw new HeadNotFound(`cannot read ${branch} of ${cloneUrl}: ${scrubbed}`, { cause: err });
  }
  const sha = /^([0-9a-f]{40})\t/m.exec(stdout)?.[1];
  if (!sha) throw new HeadNotFound(`${cloneUrl} has no branch ${branch}`);
  return sha;
}
