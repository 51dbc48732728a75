// Builds one function of a commit: checks its lang, handler path and environment files,
// assembles the template's build context, builds and pushes the image, all within the
// build timeout. Every failure becomes a FunctionFailure with a one-line reason.
import path from 'node:path';
import type { BuiltFunction } from '../../shared/jobs.js';
import { limitsWithDefaults, type Quotas } from '../../shared/tenancy.js';
import { functionEnvironment, resolveInRepo, StackFileError, type StackFunction } from '../../shared/stack.js';
import { handlerProblems } from './checkout-checks.js';
import { installNodeDependencies, NpmInstallError, type NpmSettings } from './npm-deps.js';
import { BuildFailedError, type ImageBuilder, type LogLine } from './engine-build.js';
import { isTemplate, prepareContext, TemplateError, unknownLangMessage, type BaseImages, type TemplateName } from './templates.js';

export interface FunctionPlan {
  name: string;
  def: StackFunction;
  lang: TemplateName;
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

/** Checks what can be checked before building; returns every problem of the function. */
export async function planFunction(
  repoDir: string,
  name: string,
  def: StackFunction,
): Promise<{ plan: FunctionPlan } | { problems: string[] }> {
  const problems: string[] = [];
  if (!isTemplate(def.lang)) problems.push(`functions.${name}.lang: ${unknownLangMessage(def.lang)}`);
  let handlerDir = '';
  try {
    handlerDir = await resolveInRepo(repoDir, def.handler, `functions.${name}.handler`);
  } catch (err) {
    problems.push((err as Error).message);
  }
  if (handlerDir && isTemplate(def.lang)) problems.push(...(await handlerProblems(name, def.lang, def.handler, handlerDir)));
  let envVars: Record<string, string> = {};
  try {
    envVars = await functionEnvironment(repoDir, name, def);
  } catch (err) {
    if (!(err instanceof StackFileError)) throw err;
    problems.push(...err.message.split('\n'));
  }
  if (problems.length > 0) return { problems };
  return { plan: { name, def, lang: def.lang as TemplateName, handlerDir, envVars } };
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
    const context = await prepareContext({
      lang: plan.lang,
      handlerDir: plan.handlerDir,
      extraPaths: input.extraPaths,
      contextDir: path.join(input.workDir, 'contexts', plan.name),
      baseImages: input.baseImages,
    });
    if (plan.lang === 'node20') await installNodeDependencies(path.join(context.dir, 'deps'), input.npm, log, signal);
    log(`building ${repository}:${input.sha} with template ${plan.lang}`);
    const result = await input.builder.build(
      {
        contextDir: context.dir,
        repository,
        tag: input.sha,
        // The template's own arguments (BASE_IMAGE) win: the operator chooses base images.
        buildArgs: {
          ...(plan.def.build_args ?? {}),
          ...context.buildArgs,
          ...(plan.lang === 'python3-http' && input.pipIndexUrl ? { PIP_INDEX_URL: input.pipIndexUrl } : {}),
        },
        labels: input.imageLabels,
        registry: input.registry,
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
    if (err instanceof TemplateError) throw new FunctionFailure(plan.name, err.message, true, { cause: err });
    // An unreachable registry may come back; a missing package or version will not.
    if (err instanceof NpmInstallError) throw new FunctionFailure(plan.name, err.message, !/ unreachable/.test(err.message), { cause: err });
    throw new FunctionFailure(plan.name, `build error: ${oneLine((err as Error).message ?? String(err))}`, false, { cause: err });
  }
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
