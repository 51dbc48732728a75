// stack.yml and the functions' environments, read and checked in a worker thread: parsing
// YAML and validating it is CPU work proportional to what a tenant commits, and the
// builder shares its process (and event loop) with the gateway, the webhook receiver and
// the deployer in the single-process default (services/main.ts). The worker has a memory
// ceiling and a deadline; the files it reads have size limits (work-limits.ts).
import { Worker } from 'node:worker_threads';
import { functionEnvironment, loadStack, StackFileError, type FileChecks, type LoadedStack } from '../../shared/stack.js';
import type { Quotas } from '../../shared/tenancy.js';
import { collectionSizeProblem, environmentProblem, fileSizeProblem, type WorkLimits } from './work-limits.js';

export interface StackReadInput {
  repoDir: string;
  namespace: string;
  quotas: Quotas;
  limits: WorkLimits;
}

export type FunctionEnvironment = { env: Record<string, string> } | { problems: string[] };

export interface StackRead {
  stack: LoadedStack;
  /** Per declared function (those that fit the schema): its environment or what is wrong with it. */
  environments: Record<string, FunctionEnvironment>;
}

/** Memory the worker may use: a YAML document within the size limit needs far less. */
const WORKER_HEAP_MB = 256;

/** The work itself, in whatever thread calls it (the worker, or a test). */
export async function readStackHere(input: StackReadInput): Promise<StackRead> {
  const fileChecks: FileChecks = {
    size: (field, bytes) => fileSizeProblem(field, bytes, input.limits),
    text: (field, text) => collectionSizeProblem(field, text, input.limits),
  };
  const stack = await loadStack(input.repoDir, { namespace: input.namespace, quotas: input.quotas, fileChecks });
  const declared = stack.ok ? stack.stack.functions : (stack.functions ?? {});
  const environments: Record<string, FunctionEnvironment> = {};
  for (const [name, def] of Object.entries(declared)) {
    try {
      const env = await functionEnvironment(input.repoDir, name, def, fileChecks);
      const problem = environmentProblem(name, env, input.limits);
      environments[name] = problem ? { problems: [problem] } : { env };
    } catch (err) {
      if (!(err instanceof StackFileError)) throw err;
      environments[name] = { problems: err.message.split('\n') };
    }
  }
  return { stack, environments };
}

/** readStackHere in a worker thread; a worker that runs out of time or memory fails the stack with that reason. */
export function readStack(input: StackReadInput): Promise<StackRead> {
  const failed = (problem: string): StackRead => ({ stack: { ok: false, problems: [problem] }, environments: {} });
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./stack-worker.js', import.meta.url), {
      workerData: input,
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB, stackSizeMb: 4 },
    });
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
      void worker.terminate();
    };
    const timer = setTimeout(
      () => settle(() => resolve(failed(`stack.yml: reading and checking it took longer than ${input.limits.parseTimeoutMs / 1000} s, the limit (GITFAAS_STACK_PARSE_TIMEOUT)`))),
      input.limits.parseTimeoutMs,
    );
    worker.on('message', (message: { ok: true; result: StackRead } | { ok: false; error: string }) =>
      settle(() => (message.ok ? resolve(message.result) : reject(new Error(message.error)))),
    );
    worker.on('error', (err: Error & { code?: string }) =>
      settle(() =>
        err.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? resolve(failed(`stack.yml: reading and checking it needed more than ${WORKER_HEAP_MB} MB of memory`))
          : err instanceof RangeError
            ? resolve(failed(`stack.yml: too deeply nested to read (${err.message})`))
            : reject(err),
      ),
    );
    worker.on('exit', (code) => settle(() => reject(new Error(`the stack.yml reader exited with code ${code} before answering`))));
  });
}
