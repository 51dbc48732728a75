// A copy of this checkout in a temporary folder, for tests that run the scripts for real
// (setup.sh, up.sh) without touching this checkout's dist/ or .state/.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './repo-root.js';

const run = promisify(execFile);

/**
 * Copies the checkout's files (as git sees them, timestamps kept) and its last build with
 * its stamp, so setup.sh finds the build current when this checkout's is. node_modules is
 * a folder of links: should npm ever run in the copy, it replaces links, never packages.
 */
export async function copyCheckout(prefix: string): Promise<string> {
  const root = repoRoot();
  const copy = await mkdtemp(path.join(os.tmpdir(), prefix));
  const { stdout } = await run('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: root, maxBuffer: 64 << 20 });
  for (const file of stdout.split('\0').filter((f) => f && existsSync(path.join(root, f)))) {
    await mkdir(path.dirname(path.join(copy, file)), { recursive: true });
    await cp(path.join(root, file), path.join(copy, file), { preserveTimestamps: true });
  }
  await cp(path.join(root, 'dist'), path.join(copy, 'dist'), { recursive: true, preserveTimestamps: true });
  await mkdir(path.join(copy, 'node_modules'));
  for (const entry of await readdir(path.join(root, 'node_modules'))) {
    await symlink(path.join(root, 'node_modules', entry), path.join(copy, 'node_modules', entry));
  }
  return copy;
}

/** The environment to run a copy's scripts with: its own .state, not this checkout's. */
export function copyEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  if (!('GITFAAS_STATE_DIR' in extra)) delete env.GITFAAS_STATE_DIR;
  return env;
}
