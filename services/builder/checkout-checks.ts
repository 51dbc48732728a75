// What the checkout must hold for each template, checked before anything is built, so
// that one status lists every problem (docs/gitops.md): a handler that is a folder, the
// file the template's runtime loads, a Dockerfile for lang dockerfile, a package.json that
// parses. Mirrors what templates.ts and the runtimes (templates/*/index.*) need.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { TemplateName } from './templates.js';

const exists = (p: string) => stat(p).then((s) => s, () => undefined);

/** The entry file each template's runtime loads from the handler folder. */
const ENTRY: Partial<Record<TemplateName, { files: string[]; says: string }>> = {
  node20: { files: ['handler.js', 'handler/index.js'], says: 'node20 loads handler.js from the handler folder' },
  'python3-http': { files: ['handler.py', 'handler/__init__.py'], says: 'python3-http imports handler.py from the handler folder' },
};

export async function handlerProblems(name: string, lang: TemplateName, handler: string, handlerDir: string): Promise<string[]> {
  const field = `functions.${name}.handler`;
  const dir = await exists(handlerDir);
  if (!dir?.isDirectory()) return [`${field}: "${handler}" is a file; it must be the folder holding the function`];
  const problems: string[] = [];
  if (lang === 'dockerfile' && !(await exists(path.join(handlerDir, 'Dockerfile')))?.isFile()) {
    problems.push(`${field}: "${handler}" has no Dockerfile, which lang dockerfile builds from`);
  }
  const entry = ENTRY[lang];
  if (entry) {
    const found = await Promise.all(entry.files.map(async (f) => (await exists(path.join(handlerDir, f)))?.isFile()));
    if (!found.some(Boolean)) problems.push(`${field}: "${handler}" has no ${entry.files[0]} (${entry.says})`);
  }
  if (lang === 'node20') {
    const manifest = await readFile(path.join(handlerDir, 'package.json'), 'utf8').catch(() => undefined);
    if (manifest !== undefined) {
      try {
        const deps = (JSON.parse(manifest) as { dependencies?: Record<string, unknown> }).dependencies ?? {};
        for (const [dep, spec] of Object.entries(deps)) {
          const problem = dependencyProblem(spec);
          if (problem) problems.push(`${field}: "${handler}/package.json" dependency ${dep}: ${problem}`);
        }
      } catch (err) {
        problems.push(`${field}: "${handler}/package.json" is not valid JSON: ${(err as Error).message}`);
      }
    }
  }
  return problems;
}

/**
 * The builder installs from the configured registry only (npm-deps.ts): a dependency
 * fetched from git or an arbitrary URL would make the builder's host reach anywhere.
 */
function dependencyProblem(spec: unknown): string | undefined {
  if (typeof spec !== 'string') return 'expected a version string';
  if (spec.startsWith('file:')) return undefined;
  if (/^(git\+|git:|github:|gitlab:|bitbucket:|gist:|https?:)/.test(spec) || /^[^@\s]+\/[^\s]+$/.test(spec)) {
    return `"${spec}" is not installed: only registry versions (GITFAAS_NPM_REGISTRY) and file: paths are`;
  }
  return undefined;
}
