// The layering rule of docs/architecture.md, checked on the source: a file under
// services/<a>/ imports nothing under services/<b>/ (b other than a), and shared/ imports
// nothing under services/. Files directly in services/ (main.ts, gateway-with-dashboard.ts)
// are the wiring and may import any service. Import specifiers are read with TypeScript's
// own scanner (static, type-only, export-from, side-effect and dynamic imports alike).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export interface ImportViolation {
  /** The importing file, relative to the root, with "/" separators. */
  file: string;
  /** The specifier as written. */
  specifier: string;
  /** The imported file, relative to the root. */
  target: string;
}

/** Function templates are user code built into images, not part of the services. */
const SKIPPED = new Set(['services/builder/templates']);

function sourceFiles(root: string, dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      if (!SKIPPED.has(rel) && entry.name !== 'node_modules') out.push(...sourceFiles(root, rel));
    } else if (/\.(ts|tsx|mts)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) {
      out.push(rel);
    }
  }
  return out;
}

/** "services/<name>" for a path inside a service folder, "shared" inside shared/, else undefined. */
function ownerOf(file: string): string | undefined {
  const parts = file.split('/');
  if (parts[0] === 'services' && parts.length > 2) return `services/${parts[1]}`;
  if (parts[0] === 'shared') return 'shared';
  return undefined;
}

function breaksRule(file: string, target: string): boolean {
  const from = ownerOf(file);
  const to = ownerOf(target);
  if (from === undefined || to === undefined || to === 'shared') return false;
  // from is shared/ (a library below the services) or another service's folder.
  return from !== to;
}

/** Every import that breaks the rule, in the services/ and shared/ folders under root. */
export function serviceImportViolations(root: string): { violations: ImportViolation[]; importsSeen: number } {
  const violations: ImportViolation[] = [];
  let importsSeen = 0;
  for (const top of ['services', 'shared']) {
    for (const file of sourceFiles(root, top)) {
      const text = readFileSync(path.join(root, file), 'utf8');
      for (const { fileName: specifier } of ts.preProcessFile(text, true, true).importedFiles) {
        importsSeen++;
        if (!specifier.startsWith('.')) continue;
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
        if (breaksRule(file, target)) violations.push({ file, specifier, target });
      }
    }
  }
  return { violations, importsSeen };
}
