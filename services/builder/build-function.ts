// Builds one function of a commit: checks its lang, handler path and environment files,
// assembles the template's build context, builds and pushes the image, all within the
// build timeout. Every failure becomes a FunctionFailure with a one-line reason.
import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { BuiltFunction } from '../../shared/jobs.js';
import { limitsWithDefaults, type Quotas } from '../../shared/tenancy.js';
import { resolveInRepo, type StackFunction } from '../../shared/stack.js';
import { handlerProblems } from './checkout-checks.js';
import type { FunctionEnvironment } from './stack-read.js';
import { handlerTreeProblem, type WorkLimits } from './work-limits.js';
import { dockerfileProblems } from './dockerfile-policy.js';
import { imagePolicy } from './image-source.js';
import { installNodeDependencies, NpmInstallError, type NpmSettings } from './npm-deps.js';
import { BuildFailedError, type ImageBuilder, type LogLine } from './engine-build.js';
import { isTemplate, prepareContext, prepareGitContext, TemplateError, unknownLangMessage, type BaseImages, type TemplateName } from './templates.js';
import type { PulledTemplate, PulledTemplates } from './git-templates.js';

export interface FunctionPlan {
  name: string;
  def: StackFunction;
  /** A shipped template, or undefined when the lang comes from configuration.templates. */
  lang: TemplateName | undefined;
  /** The template from git that provides the lang; it wins over a shipped one of the same name (as in faas-cli). */
  pulled?: PulledTemplate;
  handlerDir: string;
  envVars: Record<string, string>;
}

/** A failure no retry fixes (the user's code, stack.yml or Dockerfile) or one that may pass on retry. */
export class FunctionFailure extends Error {
  override name = 'FunctionFailure';
  constructor(
    readonly fn: string,
    readonly reason: string,
    readonly permanent: boolean,
    options?: ErrorOptions,
  ) {
    super(`${fn}: ${reason}`, options);
  }
}

/**
 * Checks what can be checked before building; returns every problem of the function.
 * `environment` comes from stack-read.ts (read off the event loop).
 */
export async function planFunction(
  repoDir: string,
  name: string,
  def: StackFunction,
  environment: FunctionEnvironment | undefined,
  limits: WorkLimits,
  fromGit: Pick<PulledTemplates, 'templates' | 'unavailable'> = { templates: {}, unavailable: {} },
): Promise<{ plan: FunctionPlan } | { problems: string[] }> {
  const problems: string[] = [];
  const pulled = Object.hasOwn(fromGit.templates, def.lang) ? fromGit.templates[def.lang] : undefined;
  const unavailable = Object.hasOwn(fromGit.unavailable, def.lang) ? fromGit.unavailable[def.lang] : undefined;
  const builtin = !pulled && !unavailable && isTemplate(def.lang) ? def.lang : undefined;
  if (unavailable) problems.push(`functions.${name}.lang: template "${def.lang}" could not be pulled (see ${unavailable})`);
  else if (!pulled && !builtin) problems.push(`functions.${name}.lang: ${unknownLangMessage(def.lang, Object.keys(fromGit.templates))}`);
  let handlerDir = '';
  try {
    handlerDir = await resolveInRepo(repoDir, def.handler, `functions.${name}.handler`);
  } catch (err) {
    problems.push((err as Error).message);
  }
  if (handlerDir && builtin) problems.push(...(await handlerProblems(name, builtin, def.handler, handlerDir)));
  if (handlerDir && problems.length === 0) {
    const tooBig = await handlerTreeProblem(`functions.${name}.handler: "${def.handler}"`, handlerDir, limits);
    if (tooBig) problems.push(tooBig);
  }
  const envVars = environment && 'env' in environment ? environment.env : {};
  if (environment && 'problems' in environment) problems.push(...environment.problems);
  if (problems.length > 0) return { problems };
  return { plan: { name, def, lang: builtin, pulled, handlerDir, envVars } };
}

export interface BuildFunctionInput {
  plan: FunctionPlan;
  workDir: string;
  extraPaths: Array<{ rel: string; real: string }>;
  registry: string;
  namespace: string;
  /** Default limits for a function whose stack.yml gives none. */
  quotas: Quotas;
  sha: string;
  imageLabels: Record<string, string>;
  baseImages: BaseImages;
  /** GITFAAS_BUILD_ALLOWED_IMAGES: images a Dockerfile may name besides the base images and its own namespace's. */
  allowedImages: string[];
  builder: ImageBuilder;
  timeoutMs: number;
  /** Aborts the build when the service stops. */
  stopSignal?: AbortSignal;
  log: LogLine;
  /** Where node20 dependencies come from (npm-deps.ts). */
  npm: NpmSettings;
  /** GITFAAS_PIP_INDEX_URL, given to python3-http builds as PIP_INDEX_URL. */
  pipIndexUrl?: string;
}

export interface FunctionBuilt {
  fn: BuiltFunction;
  buildMs: number;
  pushMs: number;
  cachedSteps: number;
  steps: number;
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

export async function buildFunction(input: BuildFunctionInput): Promise<FunctionBuilt> {
  const { plan, log } = input;
  const timeout = AbortSignal.timeout(input.timeoutMs);
  const signal = input.stopSignal ? AbortSignal.any([timeout, input.stopSignal]) : timeout;
  const repository = `${input.registry}/${input.namespace}/${plan.name}`;
  try {
    const contextDir = path.join(input.workDir, 'contexts', plan.name);
    const context = plan.lang
      ? await prepareContext({ lang: plan.lang, handlerDir: plan.handlerDir, extraPaths: input.extraPaths, contextDir, baseImages: input.baseImages })
      : await prepareGitContext(plan.pulled!, { handlerDir: plan.handlerDir, extraPaths: input.extraPaths, contextDir });
    // The template's own arguments (BASE_IMAGE) win: the operator chooses base images.
    const buildArgs = {
      ...(plan.def.build_args ?? {}),
      ...context.buildArgs,
      ...(plan.lang === 'python3-http' && input.pipIndexUrl ? { PIP_INDEX_URL: input.pipIndexUrl } : {}),
    };
    await checkDockerfile(context.dir, buildArgs, input, log);
    if (plan.lang === 'node20') await installNodeDependencies(path.join(context.dir, 'deps'), input.npm, log, signal);
    // Steps run without network: dependencies come from the builder (npm-deps.ts). pip
    // requirements are the exception: the template's pip step fetches them itself, in
    // BuildKit's own network (which does not reach the host's loopback services).
    const network = plan.lang === 'python3-http' && (await namesPipRequirements(context.dir)) ? 'default' : 'none';
    const template = plan.lang ?? `${plan.def.lang} from ${plan.pulled!.from}`;
    log(`building ${repository}:${input.sha} with template ${template} (network: ${network})`);
    const result = await input.builder.build(
      {
        contextDir: context.dir,
        repository,
        tag: input.sha,
        buildArgs,
        labels: input.imageLabels,
        registry: input.registry,
        network,
      },
      log,
      signal,
    );
    const def = plan.def;
    return {
      fn: {
        name: plan.name,
        image: result.image,
        envVars: plan.envVars,
        labels: def.labels ?? {},
        annotations: def.annotations ?? {},
        secrets: def.secrets ?? [],
        limits: limitsWithDefaults(def.limits, input.quotas),
        requests: def.requests,
        readOnlyRootFilesystem: def.readonly_root_filesystem,
        buildSeconds: Math.round((result.buildMs + result.pushMs) / 100) / 10,
      },
      buildMs: result.buildMs,
      pushMs: result.pushMs,
      cachedSteps: result.cachedSteps.length,
      steps: result.steps.length,
    };
  } catch (err) {
    if (timeout.aborted) {
      throw new FunctionFailure(plan.name, `build timed out after ${formatDuration(input.timeoutMs)} (GITFAAS_BUILD_TIMEOUT)`, true, { cause: err });
    }
    if (input.stopSignal?.aborted) throw new FunctionFailure(plan.name, 'build stopped: the builder is shutting down', false, { cause: err });
    if (err instanceof BuildFailedError) throw new FunctionFailure(plan.name, `build failed: ${oneLine(err.message)}`, true, { cause: err });
    if (err instanceof TemplateError || err instanceof DockerfileRefused) throw new FunctionFailure(plan.name, err.message, true, { cause: err });
    // An unreachable registry may come back; a missing package or version will not.
    if (err instanceof NpmInstallError) throw new FunctionFailure(plan.name, err.message, !/ unreachable/.test(err.message), { cause: err });
    throw new FunctionFailure(plan.name, `build error: ${oneLine((err as Error).message ?? String(err))}`, false, { cause: err });
  }
}

/** A Dockerfile naming a source the build may not use (dockerfile-policy.ts). */
class DockerfileRefused extends Error {
  override name = 'DockerfileRefused';
}

/** Refuses, before BuildKit sees it, a Dockerfile that reaches outside what the tenant may see. */
async function checkDockerfile(contextDir: string, buildArgs: Record<string, string>, input: BuildFunctionInput, log: LogLine): Promise<void> {
  const file = path.join(contextDir, 'Dockerfile');
  // BuildKit resolves a symlink inside the context, this process outside it: refuse the ambiguity.
  if ((await lstat(file)).isSymbolicLink()) throw new DockerfileRefused('Dockerfile: must be a regular file, not a symlink');
  const policy = imagePolicy({
    baseImages: [input.baseImages.node, input.baseImages.python],
    allowed: input.allowedImages,
    registry: input.registry,
    namespace: input.namespace,
  });
  const problems = dockerfileProblems(await readFile(file, 'utf8'), buildArgs, policy);
  if (problems.length === 0) return;
  for (const p of problems) log(`refused: ${p}`);
  throw new DockerfileRefused(problems.length === 1 ? problems[0] : `${problems[0]} (+${problems.length - 1} more)`);
}

async function namesPipRequirements(contextDir: string): Promise<boolean> {
  const text = await readFile(path.join(contextDir, 'deps', 'requirements.txt'), 'utf8').catch(() => '');
  return text.split(/\r?\n/).some((l) => !/^\s*(#.*)?$/.test(l));
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
