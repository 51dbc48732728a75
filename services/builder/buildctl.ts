// A remote buildkitd (Kubernetes: GITFAAS_BUILDKIT_ADDR=tcp://buildkitd:1234) through
// buildctl as a child process. buildkitd pushes the image itself and keeps the build cache
// in the registry next to the image (REPOSITORY:buildcache), so any builder replica gets
// cache hits.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BuildFailedError, type ImageBuilder, type ImageBuildRequest, type ImageBuildResult, type LogLine } from './engine-build.js';

/** The exact argv (after the buildctl binary) for one build. */
export function buildctlArgs(addr: string, req: ImageBuildRequest, metadataFile: string): string[] {
  const ref = `${req.repository}:${req.tag}`;
  const cache = `${req.repository}:buildcache`;
  const args = [
    '--addr',
    addr,
    'build',
    '--progress',
    'plain',
    '--frontend',
    'dockerfile.v0',
    '--local',
    `context=${req.contextDir}`,
    '--local',
    `dockerfile=${req.contextDir}`,
    '--output',
    `type=image,name=${ref},push=true`,
    '--export-cache',
    `type=registry,ref=${cache},mode=max`,
    '--import-cache',
    `type=registry,ref=${cache}`,
    '--metadata-file',
    metadataFile,
  ];
  // force-network-mode is what the engine's networkmode sets: RUN steps get no network.
  if (req.network === 'none') args.push('--opt', 'force-network-mode=none');
  for (const [key, value] of Object.entries(req.buildArgs).sort(([a], [b]) => a.localeCompare(b))) {
    args.push('--opt', `build-arg:${key}=${value}`);
  }
  for (const [key, value] of Object.entries(req.labels).sort(([a], [b]) => a.localeCompare(b))) {
    args.push('--opt', `label:${key}=${value}`);
  }
  return args;
}

export class BuildctlImageBuilder implements ImageBuilder {
  constructor(
    private readonly addr: string,
    private readonly buildctl = 'buildctl',
  ) {}

  async build(req: ImageBuildRequest, log: LogLine, signal: AbortSignal): Promise<ImageBuildResult> {
    const dir = await mkdtemp(path.join(tmpdir(), 'gitfaas-buildctl-'));
    const metadataFile = path.join(dir, 'metadata.json');
    const started = Date.now();
    const cachedSteps: string[] = [];
    try {
      const args = buildctlArgs(this.addr, req, metadataFile);
      const code = await new Promise<number>((resolve, reject) => {
        const child = spawn(this.buildctl, args, { stdio: ['ignore', 'pipe', 'pipe'], signal });
        let partial = '';
        const onData = (chunk: Buffer) => {
          const lines = (partial + chunk.toString('utf8')).split('\n');
          partial = lines.pop() ?? '';
          for (const line of lines) {
            log(line);
            if (/^#\d+ CACHED$/.test(line)) cachedSteps.push(line);
          }
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.on('error', (err) =>
          reject((err as NodeJS.ErrnoException).code === 'ENOENT' ? new Error(`${this.buildctl} is not installed (needed for GITFAAS_BUILDKIT_ADDR)`, { cause: err }) : err),
        );
        child.on('close', (status) => {
          if (partial) log(partial);
          resolve(status ?? 1);
        });
      });
      if (code !== 0) throw new BuildFailedError(`buildctl exited with status ${code}`);
      const metadata = JSON.parse(await readFile(metadataFile, 'utf8')) as { 'containerimage.digest'?: string };
      const digest = metadata['containerimage.digest'];
      if (!digest) throw new Error('buildctl reported no image digest');
      return { image: `${req.repository}@${digest}`, steps: [], cachedSteps, buildMs: Date.now() - started, pushMs: 0 };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
