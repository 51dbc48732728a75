// The function templates shipped in services/builder/templates/ and the build context each
// one needs: the template's files, the handler folder under function/, and a deps/ folder
// holding only the dependency manifests, so dependencies install in a layer that a change
// to the handler's code does not invalidate.
import { existsSync } from 'node:fs';
import { cp, lstat, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { relativePathProblem } from '../../shared/stack.js';

export const TEMPLATES = ['dockerfile', 'node20', 'python3-http'] as const;
export type TemplateName = (typeof TEMPLATES)[number];

export interface BaseImages {
  node: string;
  python: string;
}

export class TemplateError extends Error {
  override name = 'TemplateError';
}

export function isTemplate(lang: string): lang is TemplateName {
  return (TEMPLATES as readonly string[]).includes(lang);
}

export function unknownLangMessage(lang: string, pulled: string[] = []): string {
  const fromGit = pulled.length > 0 ? `, and from configuration.templates: ${pulled.join(', ')}` : '';
  return `unknown lang "${lang}": available templates are ${TEMPLATES.join(', ')}${fromGit}`;
}

/**
 * The templates folder of the repository (not of dist/: tsc does not copy it), found by
 * walking up from this file to the package root.
 */
export function templatesDir(from = import.meta.dirname): string {
  let dir = from;
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && path.basename(dir) !== 'dist') {
      return path.join(dir, 'services/builder/templates');
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new TemplateError(`no package.json above ${from}: cannot find services/builder/templates`);
    dir = parent;
  }
}

export interface PrepareInput {
  lang: TemplateName;
  /** Real path of the handler folder, already checked to be inside the repository. */
  handlerDir: string;
  /** Real paths of configuration.copy entries, with their path relative to the repository. */
  extraPaths?: Array<{ rel: string; real: string }>;
  /** An empty folder to assemble the build context in. */
  contextDir: string;
  baseImages: BaseImages;
  templatesRoot?: string;
}

export interface PreparedContext {
  dir: string;
  /** Build arguments the template needs (BASE_IMAGE). */
  buildArgs: Record<string, string>;
}

// Symlinks are copied as links (never followed), so a link pointing out of the repository
// carries nothing from outside into the image; .git is never part of a build.
const copyOpts = { recursive: true, verbatimSymlinks: true, filter: (src: string) => path.basename(src) !== '.git' };

export async function prepareContext(input: PrepareInput): Promise<PreparedContext> {
  const { lang, handlerDir, contextDir } = input;
  const root = input.templatesRoot ?? templatesDir();
  await mkdir(contextDir, { recursive: true });
  if (lang === 'dockerfile') {
    if (!existsSync(path.join(handlerDir, 'Dockerfile'))) {
      throw new TemplateError('lang dockerfile needs a Dockerfile in the handler folder, and there is none');
    }
    await cp(handlerDir, contextDir, copyOpts);
    await copyExtra(input, contextDir);
    return { dir: contextDir, buildArgs: {} };
  }
  await cp(path.join(root, lang), contextDir, { recursive: true });
  const functionDir = path.join(contextDir, 'function');
  await cp(handlerDir, functionDir, copyOpts);
  await copyExtra(input, functionDir);
  const depsDir = path.join(contextDir, 'deps');
  await mkdir(depsDir, { recursive: true });
  if (lang === 'node20') {
    await prepareNodeDeps(handlerDir, depsDir);
    return { dir: contextDir, buildArgs: { BASE_IMAGE: input.baseImages.node } };
  }
  const requirements = path.join(handlerDir, 'requirements.txt');
  await writeFile(path.join(depsDir, 'requirements.txt'), existsSync(requirements) ? await readFile(requirements) : '');
  return { dir: contextDir, buildArgs: { BASE_IMAGE: input.baseImages.python } };
}

/**
 * A template from git (git-templates.ts), assembled as `faas-cli build` does: the
 * template's folder, then the handler copied over its handler folder (template.yml's
 * handler_folder, function/ by default). No deps/ folder and no build arguments of
 * gitfaas: the template's Dockerfile is the template author's.
 */
export async function prepareGitContext(
  template: { dir: string; handlerFolder: string },
  input: Omit<PrepareInput, 'lang' | 'baseImages' | 'templatesRoot'>,
): Promise<PreparedContext> {
  await mkdir(input.contextDir, { recursive: true });
  await cp(template.dir, input.contextDir, copyOpts);
  // A symlink the template put on the way would take the handler's files out of the context.
  let walked = input.contextDir;
  for (const part of template.handlerFolder.split(path.sep)) {
    walked = path.join(walked, part);
    const found = await lstat(walked).catch(() => undefined);
    if (found && !found.isDirectory()) throw new TemplateError(`the template's handler folder ${template.handlerFolder} is not a folder (a symlink or a file is on its path)`);
  }
  const functionDir = path.join(input.contextDir, template.handlerFolder);
  await cp(input.handlerDir, functionDir, copyOpts);
  await copyExtra(input, functionDir);
  return { dir: input.contextDir, buildArgs: {} };
}

async function copyExtra(input: Pick<PrepareInput, 'extraPaths'>, into: string): Promise<void> {
  for (const extra of input.extraPaths ?? []) {
    await cp(extra.real, path.join(into, extra.rel), copyOpts);
  }
}

/**
 * package.json (an empty one when the handler has none), the lockfile, and the folders of
 * local `file:` dependencies inside the handler folder, at the same relative paths.
 */
async function prepareNodeDeps(handlerDir: string, depsDir: string): Promise<void> {
  const manifest = path.join(handlerDir, 'package.json');
  if (!existsSync(manifest)) {
    await writeFile(path.join(depsDir, 'package.json'), '{"private":true}\n');
    return;
  }
  const text = await readFile(manifest, 'utf8');
  let pkg: { dependencies?: Record<string, string> };
  try {
    pkg = JSON.parse(text);
  } catch (err) {
    throw new TemplateError(`package.json in the handler folder is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  await writeFile(path.join(depsDir, 'package.json'), text);
  for (const lock of ['package-lock.json', 'npm-shrinkwrap.json']) {
    if (existsSync(path.join(handlerDir, lock))) await cp(path.join(handlerDir, lock), path.join(depsDir, lock));
  }
  for (const [name, spec] of Object.entries(pkg.dependencies ?? {})) {
    if (typeof spec !== 'string' || !spec.startsWith('file:')) continue;
    const rel = spec.slice('file:'.length);
    const problem = relativePathProblem(rel);
    if (problem) throw new TemplateError(`package.json dependency ${name}: "${spec}" ${problem} (of the handler folder)`);
    const source = path.join(handlerDir, rel);
    if (!existsSync(source)) throw new TemplateError(`package.json dependency ${name}: "${spec}" does not exist in the handler folder`);
    await cp(source, path.join(depsDir, rel), copyOpts);
  }
}

/** Top-level entries of a build context, as dockerode's buildImage wants them. */
export async function contextEntries(dir: string): Promise<string[]> {
  return readdir(dir);
}
