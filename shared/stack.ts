// stack.yml (or stack.yaml): faas-cli's schema, validated with zod. Every problem is
// reported at once, each naming the function, the field and the reason, so one failed
// status tells the user everything to fix. Paths in it (handler, environment_file,
// configuration.copy) must stay inside the repository: no "..", no absolute path, no
// symlink that resolves outside. What an owner may deploy (namespace, names, reserved
// labels, quotas) is shared/tenancy.ts's to say; its problems are reported here too.
import { lstat, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { dnsLabelProblem } from './names.js';
import { DEFAULT_QUOTAS, tenancyProblems, type Quotas, type TenantFunction } from './tenancy.js';

export const STACK_FILES = ['stack.yml', 'stack.yaml'] as const;

/** faas-cli fields gitfaas does not honour, with the reason given to the user. */
const REFUSED: Record<string, string> = {
  skip_build: 'is not supported: gitfaas builds every function from the repository',
  constraints: 'is not supported: placement constraints are chosen by the platform',
  build_options: 'is not supported: declare dependencies in package.json or requirements.txt instead',
  platforms: 'is not supported: images are built for the build machine\'s platform',
};

/** Scalars YAML may type as numbers or booleans (`debug: true`) become strings, as in faas-cli. */
const scalar = z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v));
const stringMap = z.record(z.string(), scalar);
const resources = z.strictObject({ memory: scalar.optional(), cpu: scalar.optional() });

const fn = z.strictObject({
  lang: z.string({ message: 'is required: the template to build with (e.g. node20, python3-http, dockerfile)' }).min(1, 'must not be empty'),
  handler: z.string({ message: 'is required: the folder holding the function, relative to stack.yml' }).min(1, 'must not be empty'),
  /** Accepted for compatibility and ignored: gitfaas names images REGISTRY/NAMESPACE/NAME:SHA. */
  image: z.string().optional(),
  fprocess: z.string().optional(),
  namespace: z.string().optional(),
  environment: stringMap.optional(),
  environment_file: z.array(z.string()).optional(),
  secrets: z.array(z.string()).optional(),
  labels: stringMap.optional(),
  annotations: stringMap.optional(),
  limits: resources.optional(),
  requests: resources.optional(),
  build_args: stringMap.optional(),
  readonly_root_filesystem: z.boolean().optional(),
});

const stackSchema = z.strictObject({
  version: scalar.optional(),
  provider: z.strictObject({ name: z.string().optional(), gateway: z.string().optional(), network: z.string().optional() }).optional(),
  functions: z.record(z.string(), fn, { message: 'is required: a map of function name to its definition' }),
  configuration: z
    .strictObject({
      templates: z.array(z.strictObject({ name: z.string(), source: z.string().optional() })).optional(),
      copy: z.array(z.string()).optional(),
    })
    .optional(),
});

export type StackFunction = z.output<typeof fn>;
export type Stack = z.output<typeof stackSchema>;

/**
 * On failure, `functions` holds the functions that fit the schema on their own, so the
 * builder can check them against the checkout too and report everything at once.
 */
export type StackResult = { ok: true; stack: Stack } | { ok: false; problems: string[]; functions?: Record<string, StackFunction> };

/** "functions.hello.lang" — the path of a zod issue as the user wrote it. */
function where(p: readonly PropertyKey[]): string {
  return p.map(String).join('.') || '(top level)';
}

export interface StackOptions {
  file?: string;
  /** The owner's namespace: a function may name it (or nothing), never another one. */
  namespace?: string;
  /** The owner's quotas (default DEFAULT_QUOTAS). */
  quotas?: Quotas;
  /** The builder's limits on the files it reads (stack.yml, environment files). */
  fileChecks?: FileChecks;
}

/** Why a file may not be read (by its size, before reading) or parsed (by its text, before parsing). */
export interface FileChecks {
  size(field: string, bytes: number): string | undefined;
  text(field: string, text: string): string | undefined;
}

/** Reads a file unless the checks refuse it. */
async function readChecked(real: string, field: string, checks: FileChecks | undefined): Promise<string> {
  if (!checks) return readFile(real, 'utf8');
  const tooBig = checks.size(field, (await stat(real)).size);
  if (tooBig) throw new StackFileError(tooBig);
  const text = await readFile(real, 'utf8');
  const problem = checks.text(field, text);
  if (problem) throw new StackFileError(problem);
  return text;
}

/** Parses and validates the text of a stack.yml, tenancy rules included (shared/tenancy.ts). */
export function parseStack(text: string, opts: StackOptions = {}): StackResult {
  const file = opts.file ?? 'stack.yml';
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    return { ok: false, problems: [yamlProblem(file, text, err)] };
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    return { ok: false, problems: [`${file}: expected a mapping with "version", "provider" and "functions"`] };
  }
  const problems: string[] = [];
  // Refused faas-cli fields get their own reason, not zod's generic "unrecognized key".
  const functions = (doc as Record<string, unknown>).functions;
  const refusedSeen = new Set<string>();
  if (functions && typeof functions === 'object' && !Array.isArray(functions)) {
    for (const [name, def] of Object.entries(functions as Record<string, unknown>)) {
      if (!def || typeof def !== 'object') continue;
      for (const key of Object.keys(def)) {
        if (REFUSED[key]) {
          problems.push(`functions.${name}.${key}: ${REFUSED[key]}`);
          refusedSeen.add(`${name}.${key}`);
        }
      }
    }
  }
  const result = stackSchema.safeParse(doc);
  if (!result.success) {
    for (const issue of result.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) {
          const at = [...issue.path, key];
          if (issue.path[0] === 'functions' && refusedSeen.has(`${String(issue.path[1])}.${key}`)) continue;
          problems.push(`${where(at)}: unknown field (not part of the faas-cli stack.yml schema)`);
        }
        continue;
      }
      problems.push(`${where(issue.path)}: ${issue.message}`);
    }
  }
  if (result.success) problems.push(...semanticProblems(result.data));
  else problems.push(...partialSemanticProblems(doc as Record<string, unknown>));
  problems.push(
    ...tenancyProblems({
      namespace: opts.namespace,
      functions: tenantFunctions(doc as Record<string, unknown>),
      otherFunctionsOfOwner: 0,
      quotas: opts.quotas ?? DEFAULT_QUOTAS,
    }),
  );
  if (problems.length > 0) return { ok: false, problems: [...new Set(problems)], functions: functionsThatParse(doc as Record<string, unknown>) };
  return { ok: true, stack: result.data! };
}

/**
 * A YAML syntax error with the line it points at: the first line says where and what, with
 * the offending line quoted (for a status); the next lines show it with a caret (for the log).
 */
function yamlProblem(file: string, text: string, err: unknown): string {
  if (!(err instanceof YAMLParseError)) return `${file}: not valid YAML: ${String(err)}`;
  const reason = err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '').replace(/:$/, '');
  const pos = err.linePos?.[0];
  if (!pos) return `${file}: not valid YAML: ${reason}`;
  const lines = text.split(/\r?\n/);
  let at = pos.line;
  let col = pos.col;
  // An error at the end of the file (an unclosed quote) points past the last line: show the line it began on.
  while (at > 1 && !(lines[at - 1] ?? '').trim()) {
    at--;
    col = (lines[at - 1] ?? '').length + 1;
  }
  const line = lines[at - 1] ?? '';
  const snippet = line.length > 80 ? `${line.slice(0, 80)}…` : line;
  return [
    `${file}: not valid YAML at line ${at}, column ${col} ("${snippet.trim()}"): ${reason}`,
    `    ${at} | ${snippet}`,
    `    ${' '.repeat(String(at).length)} | ${' '.repeat(Math.max(0, Math.min(col - 1, snippet.length)))}^`,
  ].join('\n');
}

function functionsThatParse(doc: Record<string, unknown>): Record<string, StackFunction> {
  const out: Record<string, StackFunction> = {};
  const functions = doc.functions;
  if (!functions || typeof functions !== 'object' || Array.isArray(functions)) return out;
  for (const [name, def] of Object.entries(functions as Record<string, unknown>)) {
    const parsed = fn.safeParse(def);
    if (parsed.success) out[name] = parsed.data;
  }
  return out;
}

/**
 * When the schema fails somewhere, the functions that do fit it are still checked, so one
 * status lists every problem rather than the first layer of them.
 */
function partialSemanticProblems(doc: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const functions = doc.functions;
  if (!functions || typeof functions !== 'object' || Array.isArray(functions)) return problems;
  for (const [name, def] of Object.entries(functions as Record<string, unknown>)) {
    const parsed = fn.safeParse(def);
    if (parsed.success) problems.push(...functionProblems(name, parsed.data));
    else if (def && typeof def === 'object') {
      const handler = (def as Record<string, unknown>).handler;
      const pathProblem = typeof handler === 'string' ? relativePathProblem(handler) : undefined;
      if (pathProblem) problems.push(`functions.${name}.handler: "${handler}" ${pathProblem}`);
    }
  }
  return problems;
}

/**
 * What tenancy checks read of each function, taken from the raw document so that a
 * function failing the schema elsewhere is still checked: fields of the wrong type are
 * left out (the schema reports those).
 */
function tenantFunctions(doc: Record<string, unknown>): TenantFunction[] {
  const functions = doc.functions;
  if (!functions || typeof functions !== 'object' || Array.isArray(functions)) return [];
  const map = (v: unknown) => {
    const parsed = stringMap.safeParse(v);
    return parsed.success ? parsed.data : undefined;
  };
  const res = (v: unknown) => {
    const parsed = resources.safeParse(v);
    return parsed.success ? parsed.data : undefined;
  };
  return Object.entries(functions as Record<string, unknown>).map(([name, raw]) => {
    const def = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
    return {
      name,
      ...(typeof def.namespace === 'string' ? { namespace: def.namespace } : {}),
      labels: map(def.labels),
      annotations: map(def.annotations),
      limits: res(def.limits),
      requests: res(def.requests),
    };
  });
}

function semanticProblems(stack: Stack): string[] {
  const problems: string[] = [];
  if (stack.provider?.name !== undefined && stack.provider.name !== 'openfaas') {
    problems.push(`provider.name: must be "openfaas", got "${stack.provider.name}"`);
  }
  const names = Object.keys(stack.functions);
  if (names.length === 0) problems.push('functions: declares no function');
  for (const name of names) problems.push(...functionProblems(name, stack.functions[name]));
  for (const [i, p] of (stack.configuration?.copy ?? []).entries()) {
    const problem = relativePathProblem(p);
    if (problem) problems.push(`configuration.copy[${i}]: "${p}" ${problem}`);
  }
  return problems;
}

function functionProblems(name: string, f: StackFunction): string[] {
  const problems: string[] = [];
  const pathProblem = relativePathProblem(f.handler);
  if (pathProblem) problems.push(`functions.${name}.handler: "${f.handler}" ${pathProblem}`);
  for (const [i, file] of (f.environment_file ?? []).entries()) {
    const p = relativePathProblem(file);
    if (p) problems.push(`functions.${name}.environment_file[${i}]: "${file}" ${p}`);
  }
  for (const secret of f.secrets ?? []) {
    const p = dnsLabelProblem(secret);
    if (p) problems.push(`functions.${name}.secrets: "${secret}" ${p}`);
  }
  for (const key of Object.keys(f.environment ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) problems.push(`functions.${name}.environment: "${key}" is not a valid variable name`);
  }
  return problems;
}

/** Why a path written in stack.yml may not be used, or undefined if its text is fine. */
export function relativePathProblem(p: string): string | undefined {
  if (p.includes('\0')) return 'contains a NUL character';
  if (path.isAbsolute(p) || /^[A-Za-z]:[\\/]/.test(p)) return 'must be relative to the repository, not absolute';
  if (p.split(/[\\/]+/).includes('..')) return 'must stay inside the repository: ".." is not allowed';
  return undefined;
}

export class StackFileError extends Error {
  override name = 'StackFileError';
}

/**
 * Resolves a stack.yml path against the repository and checks that it, after following
 * every symlink, is still inside the repository. Returns the real absolute path.
 */
export async function resolveInRepo(repoDir: string, rel: string, field: string): Promise<string> {
  const problem = relativePathProblem(rel);
  if (problem) throw new StackFileError(`${field}: "${rel}" ${problem}`);
  const root = await realpath(repoDir);
  let real: string;
  try {
    real = await realpath(path.join(root, rel));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      // A dangling symlink is reported as what it is, not as a missing file.
      const link = await lstat(path.join(root, rel)).catch(() => undefined);
      if (link?.isSymbolicLink()) throw new StackFileError(`${field}: "${rel}" is a symlink to a missing target`);
      throw new StackFileError(`${field}: "${rel}" does not exist in the repository`, { cause: err });
    }
    throw new StackFileError(`${field}: "${rel}" cannot be read (${code ?? (err as Error).message})`, { cause: err });
  }
  if (real !== root && !real.startsWith(root + path.sep)) {
    throw new StackFileError(`${field}: "${rel}" resolves outside the repository through a symlink`);
  }
  return real;
}

export type LoadedStack =
  | { ok: true; stack: Stack; file: string }
  | { ok: false; problems: string[]; file?: string; functions?: Record<string, StackFunction> };

/** Reads stack.yml (or stack.yaml) from the repository's root and validates it. */
export async function loadStack(repoDir: string, opts: Omit<StackOptions, 'file'> = {}): Promise<LoadedStack> {
  for (const file of STACK_FILES) {
    let text: string;
    try {
      const real = await resolveInRepo(repoDir, file, file);
      text = await readChecked(real, file, opts.fileChecks);
    } catch (err) {
      if (err instanceof StackFileError && /does not exist/.test(err.message)) continue;
      return { ok: false, problems: [(err as Error).message] };
    }
    const result = parseStack(text, { ...opts, file });
    return result.ok ? { ok: true, stack: result.stack, file } : { ...result, file };
  }
  return { ok: false, problems: [`no ${STACK_FILES.join(' or ')} at the root of the repository`] };
}

const envFileSchema = z.strictObject({ environment: stringMap });

/**
 * The environment of a function: its environment_file entries (faas-cli format: YAML
 * files holding an `environment:` map) in order, then its own `environment`, which wins.
 * Throws one Error listing every problem.
 */
export async function functionEnvironment(repoDir: string, name: string, f: StackFunction, fileChecks?: FileChecks): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  const problems: string[] = [];
  for (const [i, file] of (f.environment_file ?? []).entries()) {
    const field = `functions.${name}.environment_file[${i}]`;
    try {
      const real = await resolveInRepo(repoDir, file, field);
      const parsed = envFileSchema.safeParse(parseYaml(await readChecked(real, `${field}: "${file}"`, fileChecks)));
      if (!parsed.success) {
        problems.push(`${field}: "${file}" ${parsed.error.issues.map((i) => `${where(i.path)} ${i.message}`).join('; ')}`);
        continue;
      }
      Object.assign(env, parsed.data.environment);
    } catch (err) {
      problems.push(err instanceof StackFileError ? err.message : `${field}: "${file}" ${(err as Error).message.split('\n')[0]}`);
    }
  }
  if (problems.length > 0) throw new StackFileError(problems.join('\n'));
  Object.assign(env, f.environment ?? {});
  if (f.fprocess !== undefined) env.fprocess = f.fprocess;
  return env;
}
