// Templates from git: stack.yml's configuration.templates, each `{name, source}` with source
// a git URL and an optional `#ref`, as faas-cli reads them, in `faas-cli template pull`'s
// layout (template/<name>/Dockerfile). The repository is fetched only from a configured git
// origin (the clone's rules: GITHUB_URL / GITLAB_URL / GITFAAS_GIT_HOSTS), never with
// credentials and never following a redirect, at the ref resolved to one commit, and kept
// under STATE_DIR/templates/<url hash>/<commit> so later builds of the same commit reuse it.
import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, realpath, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { simpleGit } from 'simple-git';
import { parse as parseYaml } from 'yaml';
import { gitConfigEnvironment } from '../../shared/git-config-env.js';
import { relativePathProblem } from '../../shared/stack.js';
import type { GitOrigin } from '../../shared/git-origins.js';
import { gitEnvironment } from './clone.js';
import { handlerTreeProblem, type WorkLimits } from './work-limits.js';

export interface PulledTemplate {
  /** template/<name> inside the cached checkout. */
  dir: string;
  /** url@commit, for the build log. */
  from: string;
  /** template.yml's handler_folder: where faas-cli puts the handler in the build context. */
  handlerFolder: string;
}

export interface PulledTemplates {
  templates: Record<string, PulledTemplate>;
  /** Problems no retry fixes: a refused URL, a missing ref or template, a limit. */
  problems: string[];
  /** Names whose entry failed, with the field to read: a function of that lang is told so. */
  unavailable: Record<string, string>;
  /** A fetch that failed for another reason (the host did not answer): worth a retry. */
  transient?: string;
}

export interface PullSettings {
  /** The origins of the build's git host: a template comes from one of them or not at all. */
  origins: GitOrigin[];
  /** STATE_DIR/templates. */
  cacheDir: string;
  timeoutMs: number;
  limits: WorkLimits;
  note: (line: string) => void;
}

const SHA = /^[0-9a-f]{40}$/;
/** A branch, tag or commit as git accepts it on a command line, never an option. */
const REF = /^[A-Za-z0-9_][A-Za-z0-9._/-]*$/;
const NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/** Splits `URL#ref` and checks the URL against the origins; a problem names what is wrong. */
export function parseTemplateSource(source: string, origins: GitOrigin[]): { url: string; ref: string } | { problem: string } {
  const hash = source.indexOf('#');
  const url = hash < 0 ? source : source.slice(0, hash);
  const ref = hash < 0 ? 'HEAD' : source.slice(hash + 1);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { problem: `"${url}" is not an absolute git URL` };
  }
  if (parsed.username || parsed.password) return { problem: `"${parsed.protocol}//${parsed.host}...": a template URL carries no user or password` };
  const origin = `${parsed.protocol}//${parsed.host}`.toLowerCase();
  if (!origins.some((o) => o.origin === origin)) {
    return {
      problem: `template repository on ${origin} refused: templates are fetched only from ${origins.map((o) => o.origin).join(', ')} (add an origin to GITFAAS_GIT_HOSTS to allow another)`,
    };
  }
  if (parsed.search) return { problem: `"${url}": a template URL has no query` };
  if (!REF.test(ref) || ref.includes('..')) return { problem: `ref "${ref}" is not a branch, tag or commit name` };
  return { url, ref };
}

/** Every entry of configuration.templates, fetched (or found in the cache) and checked. */
export async function pullTemplates(entries: Array<{ name: string; source?: string }>, settings: PullSettings): Promise<PulledTemplates> {
  const result: PulledTemplates = { templates: {}, problems: [], unavailable: {} };
  for (const [i, entry] of entries.entries()) {
    const field = `configuration.templates[${i}]`;
    if (!NAME.test(entry.name)) {
      result.problems.push(`${field}.name: "${entry.name}" is not a template name (letters, digits, ".", "_", "-")`);
      continue;
    }
    result.unavailable[entry.name] = field;
    if (!entry.source) {
      result.problems.push(`${field}.source: missing: gitfaas has no template store, give the template repository's git URL (URL#ref)`);
      continue;
    }
    const parsed = parseTemplateSource(entry.source, settings.origins);
    if ('problem' in parsed) {
      result.problems.push(`${field}.source: ${parsed.problem}`);
      continue;
    }
    try {
      const checkout = await fetchTemplateRepo(parsed.url, parsed.ref, settings);
      const dir = path.join(checkout.dir, 'template', entry.name);
      const problem = await templateProblem(checkout.dir, entry.name, parsed.url, settings.limits);
      const handlerFolder = problem ? { problem } : await handlerFolderOf(dir);
      if (typeof handlerFolder !== 'string') {
        result.problems.push(`${field}: ${problem ?? `${parsed.url}: template/${entry.name}/${handlerFolder.problem}`}`);
      } else {
        result.templates[entry.name] = { dir, from: `${parsed.url}@${checkout.commit.slice(0, 12)}`, handlerFolder };
        delete result.unavailable[entry.name];
      }
    } catch (err) {
      if (err instanceof RefNotFound) result.problems.push(`${field}.source: ${err.message}`);
      else result.transient ??= `${field}.source: ${(err as Error).message}`;
    }
  }
  return result;
}

class RefNotFound extends Error {}

/** The cached checkout of url at ref's commit: fetched into a fresh folder, renamed into place. */
async function fetchTemplateRepo(url: string, ref: string, settings: PullSettings): Promise<{ dir: string; commit: string }> {
  const repoDir = path.join(settings.cacheDir, createHash('sha256').update(url).digest('hex').slice(0, 16));
  // A commit named in full needs no network once cached.
  if (SHA.test(ref) && (await isDir(path.join(repoDir, ref)))) {
    settings.note(`template ${url}@${ref.slice(0, 12)}: from the cache`);
    return { dir: path.join(repoDir, ref), commit: ref };
  }
  const tmp = path.join(settings.cacheDir, `.fetch-${randomBytes(6).toString('hex')}`);
  await mkdir(tmp, { recursive: true });
  try {
    const config = gitConfigEnvironment(url);
    const git = simpleGit({
      baseDir: tmp,
      timeout: { block: settings.timeoutMs },
      allowEnvironment: ['GIT_TERMINAL_PROMPT', ...Object.keys(config)],
      unsafe: { allowUnsafeConfigEnvCount: true },
    }).env({ ...gitEnvironment(), ...config });
    await git.init();
    try {
      await git.fetch(['--depth', '1', '--no-tags', url, ref]);
    } catch (err) {
      const message = (err as Error).message ?? String(err);
      if (/couldn't find remote ref|not our ref|unadvertised object|invalid refspec|no such remote ref/i.test(message)) {
        throw new RefNotFound(`ref "${ref}" not found in ${url}`);
      }
      throw new Error(`fetching ${url} at ${ref} failed: ${message.trim().split('\n').slice(0, 3).join(' ')}`);
    }
    const commit = (await git.revparse(['FETCH_HEAD'])).trim();
    const target = path.join(repoDir, commit);
    if (await isDir(target)) {
      settings.note(`template ${url}#${ref} is ${commit.slice(0, 12)}: from the cache`);
      return { dir: target, commit };
    }
    await git.raw(['-c', 'advice.detachedHead=false', 'checkout', '--detach', 'FETCH_HEAD']);
    await rm(path.join(tmp, '.git'), { recursive: true, force: true });
    await mkdir(repoDir, { recursive: true });
    // Another build may have put the same commit in place meanwhile: theirs is as good.
    await rename(tmp, target).catch(async (err: NodeJS.ErrnoException) => {
      if (!(await isDir(target))) throw err;
    });
    settings.note(`template ${url}#${ref} is ${commit.slice(0, 12)}: fetched`);
    return { dir: target, commit };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** What is wrong with template/<name> of a checkout, if anything. */
async function templateProblem(checkout: string, name: string, url: string, limits: WorkLimits): Promise<string | undefined> {
  const tooBig = await handlerTreeProblem(`template repository ${url}`, checkout, limits);
  if (tooBig) return tooBig;
  const dir = path.join(checkout, 'template', name);
  // A symlink (template/ or template/<name>) must not lead the build context out of the checkout.
  const real = await realpath(dir).catch(() => undefined);
  if (real && real !== path.join(await realpath(checkout), 'template', name)) return `${url}: template/${name} is a symlink; refused`;
  if (!(await isDir(dir))) {
    const held = await readdir(path.join(checkout, 'template')).catch(() => [] as string[]);
    return `${url} has no template/${name}/ (faas-cli template pull's layout); ${held.length > 0 ? `it holds template/${held.sort().join(', template/')}` : 'it has no template/ folder'}`;
  }
  const dockerfile = await lstat(path.join(dir, 'Dockerfile')).catch(() => undefined);
  if (!dockerfile?.isFile()) return `${url}: template/${name}/Dockerfile is missing or not a regular file`;
  return undefined;
}

/** template.yml's handler_folder (faas-cli's default: function), a plain relative path. */
export async function handlerFolderOf(dir: string): Promise<string | { problem: string }> {
  const file = path.join(dir, 'template.yml');
  const found = await lstat(file).catch(() => undefined);
  if (!found) return 'function';
  // Read only a file of the checkout itself: a symlink could name any file of the builder's host.
  if (!found.isFile()) return { problem: 'template.yml: must be a regular file, not a symlink' };
  const text = await readFile(file, 'utf8');
  let folder: unknown;
  try {
    folder = (parseYaml(text) as { handler_folder?: unknown } | null)?.handler_folder ?? 'function';
  } catch (err) {
    return { problem: `template.yml is not valid YAML: ${(err as Error).message.split('\n')[0]}` };
  }
  if (typeof folder !== 'string' || folder.trim() === '') return { problem: 'template.yml: handler_folder must be a folder name' };
  const problem = relativePathProblem(folder);
  if (problem) return { problem: `template.yml: handler_folder "${folder}" ${problem.replace('repository', 'template')}` };
  const normal = path.normalize(folder).replace(/\/+$/, '') || '.';
  return normal === '.' ? { problem: `template.yml: handler_folder "${folder}" must be a folder inside the template` } : normal;
}

async function isDir(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isDirectory() ?? false;
}
