// The functions `npm run bench:scale` wakes, built the way the product builds a push: the
// builder's own planFunction and buildFunction (template build context, Dockerfile policy,
// BuildKit through the Docker engine without network, push to the registry), with the
// builder's configuration (loadBuilderConfig). Each is a handler folder in a scratch
// "repository", as a stack.yml would name it:
//   node20  a node20-template handler (module.exports = async (event, context) => ...)
//   static  lang dockerfile: FROM scratch + Debian's static busybox httpd serving a page
//           (test/fixtures/functions/static; busybox from scripts/bench-tools.sh busybox)
//   echo    the echo test function (test/fixtures/functions/echo, a plain docker build)
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { buildFunction, planFunction } from '../../services/builder/build-function.js';
import { loadBuilderConfig } from '../../services/builder/config.js';
import { EngineImageBuilder } from '../../services/builder/engine-build.js';
import type { StackFunction } from '../../shared/stack.js';
import { fixtureImage } from '../../test/helpers/images.js';
import { repoRoot } from '../../test/helpers/repo-root.js';

export const WAKE_FUNCTIONS = ['node20', 'static', 'echo'] as const;
export type WakeFunction = (typeof WAKE_FUNCTIONS)[number];

export interface BuiltWakeFunction {
  name: WakeFunction;
  image: string;
  /** Text the function's answer to GET / holds (the bench checks every wake's answer). */
  answer: string;
  /** One line for the report: what the function is and how it was built. */
  about: string;
}

/** The registry namespace the bench's images are pushed under (never a tenant's). */
const NAMESPACE = 'gitfaas-bench';
const BUSYBOX = '/bin/busybox';

const NODE20_HANDLER = `'use strict';
// A node20-template function: answers with a small JSON document.
module.exports = async (event, context) => {
  return context.status(200).headers({ 'content-type': 'application/json' }).succeed({ hello: 'from node20', path: event.path });
};
`;

export function parseWakeFunctions(text: string): WakeFunction[] {
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !(WAKE_FUNCTIONS as readonly string[]).includes(n));
  if (unknown.length > 0 || names.length === 0) {
    throw new Error(`BENCH_FUNCTIONS: unknown function "${unknown[0] ?? text}" (expected a comma-separated list of ${WAKE_FUNCTIONS.join(', ')})`);
  }
  return [...new Set(names)] as WakeFunction[];
}

/** Builds (or, with BuildKit's cache, rebuilds in a moment) the named functions and pushes them. */
export async function buildWakeFunctions(names: WakeFunction[], log: (line: string) => void): Promise<BuiltWakeFunction[]> {
  const repoDir = await mkdtemp(path.join(os.tmpdir(), 'gitfaas-bench-wake-'));
  try {
    const built: BuiltWakeFunction[] = [];
    for (const name of names) {
      if (name === 'echo') {
        built.push({ name, image: await fixtureImage('echo'), answer: '"method":"GET"', about: 'echo: the echo test function (Node 20 http server, test/fixtures/functions/echo)' });
      } else if (name === 'node20') {
        const dir = path.join(repoDir, 'wake-node20');
        await mkdir(dir, { recursive: true });
        await writeFile(path.join(dir, 'handler.js'), NODE20_HANDLER);
        const image = await buildWithBuilder(repoDir, 'wake-node20', { lang: 'node20', handler: './wake-node20' }, log);
        built.push({ name, image, answer: '"hello":"from node20"', about: 'node20: a node20-template handler built by the builder (services/builder/templates/node20)' });
      } else {
        if (!existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} is missing: run bash scripts/bench-tools.sh busybox (Debian package busybox-static)`);
        const dir = path.join(repoDir, 'wake-static');
        await cp(path.join(repoRoot(), 'test/fixtures/functions/static'), dir, { recursive: true });
        await cp(BUSYBOX, path.join(dir, 'busybox'));
        const image = await buildWithBuilder(repoDir, 'wake-static', { lang: 'dockerfile', handler: './wake-static' }, log);
        built.push({ name, image, answer: 'hello from a static function', about: 'static: busybox httpd on FROM scratch, lang dockerfile built by the builder (test/fixtures/functions/static)' });
      }
    }
    return built;
  } finally {
    await rm(repoDir, { recursive: true, force: true });
  }
}

/** planFunction then buildFunction, as build-commit.ts runs them for each function of a push. */
async function buildWithBuilder(repoDir: string, name: string, def: StackFunction, log: (line: string) => void): Promise<string> {
  const stateDir = path.join(repoDir, '.state');
  const config = loadBuilderConfig({
    GITFAAS_STATE_DIR: stateDir,
    // The base image scripts/base-images.sh pushes (no Docker Hub here), unless the caller chose one.
    GITFAAS_TEMPLATE_NODE_IMAGE: process.env.GITFAAS_TEMPLATE_NODE_IMAGE ?? '127.0.0.1:5000/gitfaas/node:20',
  });
  const planned = await planFunction(repoDir, name, def, undefined, config.limits);
  if ('problems' in planned) throw new Error(`${name}: ${planned.problems.join('; ')}`);
  const workDir = path.join(repoDir, '.work');
  await mkdir(workDir, { recursive: true });
  const started = Date.now();
  const result = await buildFunction({
    plan: planned.plan,
    workDir,
    extraPaths: [],
    registry: config.registry,
    namespace: NAMESPACE,
    quotas: config.quotas,
    sha: 'bench',
    imageLabels: { 'org.opencontainers.image.source': 'gitfaas bench:scale' },
    baseImages: config.baseImages,
    allowedImages: config.allowedImages,
    builder: new EngineImageBuilder(new Docker({ socketPath: config.dockerSocket })),
    timeoutMs: config.buildTimeoutMs,
    log: (line) => log(`[${name}] ${line}`),
    npm: config.npm,
  });
  log(`built ${result.fn.image} in ${((Date.now() - started) / 1000).toFixed(1)} s (${result.cachedSteps} of ${result.steps} steps cached)`);
  return result.fn.image;
}
