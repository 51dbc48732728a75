// Builds with the Docker engine's built-in BuildKit (Engine API POST /build?version=2,
// through dockerode), streaming the build's output into the build log as it runs, then
// pushes the image and returns it by digest. The engine keeps BuildKit's cache between
// builds, so a one-line change to a handler rebuilds only the layers after it.
import Docker from 'dockerode';
import { decodeTrace, TracePrinter } from './buildkit-trace.js';
import { contextEntries } from './templates.js';

export interface ImageBuildRequest {
  contextDir: string;
  /** registry/namespace/name, without tag. */
  repository: string;
  tag: string;
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  registry: string;
  /** BuildKit's network for RUN steps: `none` unless a platform template needs to fetch. */
  network: 'none' | 'default';
}

export interface ImageBuildResult {
  /** repository@sha256:... */
  image: string;
  steps: string[];
  cachedSteps: string[];
  buildMs: number;
  pushMs: number;
}

export type LogLine = (line: string) => void;

export interface ImageBuilder {
  build(req: ImageBuildRequest, log: LogLine, signal: AbortSignal): Promise<ImageBuildResult>;
}

/** A build that failed for a reason in the user's code or Dockerfile (no retry fixes it). */
export class BuildFailedError extends Error {
  override name = 'BuildFailedError';
}

interface ProgressMessage {
  id?: string;
  stream?: string;
  status?: string;
  progress?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: unknown;
}

/** Reads a JSON-lines progress stream, calling onMessage for each message. */
function readProgress(stream: NodeJS.ReadableStream, onMessage: (m: ProgressMessage) => void, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onAbort = () => {
      (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      reject(signal.reason);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    stream.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.trim()) continue;
        try {
          onMessage(JSON.parse(line) as ProgressMessage);
        } catch {
          onMessage({ stream: line });
        }
      }
    });
    stream.on('end', () => {
      signal.removeEventListener('abort', onAbort);
      if (buffered.trim()) {
        try {
          onMessage(JSON.parse(buffered) as ProgressMessage);
        } catch {
          onMessage({ stream: buffered });
        }
      }
      resolve();
    });
    stream.on('error', (err) => {
      signal.removeEventListener('abort', onAbort);
      reject(err);
    });
  });
}

/**
 * BuildKit's error for a failed RUN quotes the whole command before the exit code; a status
 * line has room for the start of the command and the code (the log has the rest).
 */
export function summarizeBuildError(message: string): string {
  const m = /(?:executor failed running \[([\s\S]*)\]|process "([\s\S]*)" did not complete successfully): exit code: (\d+)/.exec(message);
  if (!m) return message.replace(/^failed to solve with frontend dockerfile\.v0: (failed to create LLB definition: )?/, 'Dockerfile: ');
  const command = (m[1] ?? m[2]).replace(/^\/bin\/sh -c /, '').replace(/\s+/g, ' ');
  const shown = command.length > 48 ? `${command.slice(0, 47)}…` : command;
  return `RUN ${shown} exited with code ${m[3]}`;
}

/**
 * The lines of a failed step's output that say why: npm's `npm error` lines, else the
 * last lines that read like an error, else the last line.
 */
export function causeLines(output: string[]): string[] {
  const lines = output.map((l) => l.trim()).filter(Boolean);
  const npm = lines
    .filter((l) => /^npm (error|ERR!)/.test(l))
    .map((l) => l.replace(/^npm (error|ERR!) ?/, 'npm error '))
    .filter((l) => !/A complete log of this run|debug-\d+\.log$|^npm error (code|errno|syscall) /.test(l));
  if (npm.length) return npm.slice(0, 3);
  // A step's stdout and stderr can reach the trace in either order, so "the last line" may be
  // an echo: lines that read like a failure win over it.
  const errors = lines.filter((l) =>
    /\b(error|Error|ERROR|fatal|No module named|not found|denied|refused|unreachable|No such file|cannot|Traceback|[Ee]xception)\b/.test(l),
  );
  if (errors.length) return errors.slice(-2);
  return lines.slice(-1);
}

/** The cause first (a status has room for about 140 characters), then the step that failed. */
export function withCause(summary: string, output: string[]): string {
  const cause = causeLines(output).join('; ');
  return cause ? `${cause} (${summary})` : summary;
}

export class EngineImageBuilder implements ImageBuilder {
  constructor(private readonly docker: Docker) {}

  async build(req: ImageBuildRequest, log: LogLine, signal: AbortSignal): Promise<ImageBuildResult> {
    const ref = `${req.repository}:${req.tag}`;
    const started = Date.now();
    const printer = new TracePrinter();
    let failure: string | undefined;
    const stream = await this.docker.buildImage(
      { context: req.contextDir, src: await contextEntries(req.contextDir) },
      { t: ref, version: '2', buildargs: req.buildArgs, labels: req.labels, forcerm: true, networkmode: req.network, abortSignal: signal } as Docker.ImageBuildOptions,
    );
    await readProgress(
      stream,
      (m) => {
        if (m.id === 'moby.buildkit.trace' && typeof m.aux === 'string') {
          for (const line of printer.lines(decodeTrace(m.aux))) log(line);
        } else if (m.error || m.errorDetail) {
          failure = m.errorDetail?.message ?? m.error;
        } else if (m.stream) {
          log(m.stream.replace(/\n$/, ''));
        }
      },
      signal,
    );
    for (const line of printer.flush()) log(line);
    if (failure) {
      log(`ERROR: ${failure}`);
      throw new BuildFailedError(withCause(summarizeBuildError(failure), printer.failedStep === undefined ? [] : printer.stepOutput(printer.failedStep)));
    }
    const buildMs = Date.now() - started;
    log(`built ${ref} in ${(buildMs / 1000).toFixed(1)}s (${printer.cachedSteps.length} of ${printer.steps.length} steps cached)`);
    const pushStarted = Date.now();
    const image = await this.push(ref, req, log, signal);
    return { image, steps: printer.steps, cachedSteps: printer.cachedSteps, buildMs, pushMs: Date.now() - pushStarted };
  }

  private async push(ref: string, req: ImageBuildRequest, log: LogLine, signal: AbortSignal): Promise<string> {
    log(`pushing ${ref}`);
    // An empty auth config: the local registry needs none (credentials for another one come
    // from the engine's own configuration).
    const stream = await this.docker.getImage(ref).push({ abortSignal: signal } as object, undefined, { serveraddress: req.registry });
    let digest: string | undefined;
    let failure: string | undefined;
    await readProgress(
      stream,
      (m) => {
        if (m.error || m.errorDetail) failure = m.errorDetail?.message ?? m.error;
        const aux = m.aux as { Digest?: string } | undefined;
        if (aux?.Digest) digest = aux.Digest;
      },
      signal,
    );
    if (failure) throw new Error(`push of ${ref} failed: ${failure}`);
    if (!digest) throw new Error(`push of ${ref} reported no digest`);
    log(`pushed ${req.repository}@${digest}`);
    return `${req.repository}@${digest}`;
  }
}
