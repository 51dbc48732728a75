import { existsSync } from 'node:fs';
import path from 'node:path';

/** The repository root, found from a compiled (dist/...) or source file alike. */
export function repoRoot(from = import.meta.dirname): string {
  let dir = from;
  while (!existsSync(path.join(dir, 'package.json')) || path.basename(dir) === 'dist') {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${from}`);
    dir = parent;
  }
  return dir;
}
