// The commit at the head of a repository's branch, asked of the git host with
// `git ls-remote` (what a rebuild of "the default branch" builds). Credentials for a
// private repository go to git through GIT_CONFIG_* environment variables: never in argv
// (visible in ps), never in the URL, never in a message.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

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
  if (credentials) {
    const basic = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
    Object.assign(env, { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.extraHeader', GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}` });
  }
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
