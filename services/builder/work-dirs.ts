// Each build clones into a work directory of its own under STATE_DIR/builds, removed when
// the build ends. A builder killed with SIGKILL (or an OOM kill, a power cut) cannot
// remove its own, so the next builder to start removes them. Several builders may share
// a state directory (processes on one host, or lanes in one process), so a directory is
// removed only when it is provably nobody's: its name carries the host and pid of the
// builder that made it, the host is this one and that process no longer exists.
import { randomBytes } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** The host part of a name: anything but the separator, so the pattern below can split it. */
const hostTag = () => os.hostname().replace(/[^A-Za-z0-9.]/g, '_');

/** <host>-<pid>-<sha12>-<random12> */
const NAME = /^(.+)-(\d+)-([0-9a-f]{1,12})-([0-9a-f]{12})$/;

/** A fresh work directory for one build of `sha`, named after this process. */
export function workDirFor(buildsDir: string, sha: string): string {
  return path.join(buildsDir, `${hostTag()}-${process.pid}-${sha.slice(0, 12)}-${randomBytes(6).toString('hex')}`);
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, owned by someone else.
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Removes the work directories of builders on this host that no longer run; returns
 * their names. Directories of other hosts, of running processes, and names it did not
 * make are left alone.
 */
export async function removeStaleWorkDirs(buildsDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(buildsDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = NAME.exec(name);
    if (!m || m[1] !== hostTag()) continue;
    const pid = Number(m[2]);
    if (pid === process.pid || processExists(pid)) continue;
    await rm(path.join(buildsDir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
