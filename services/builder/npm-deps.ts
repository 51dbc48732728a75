// npm dependencies of a node20 function, installed by the builder itself, not inside the
// build: build steps run without a network (docs/security.md), and a registry on the
// builder's loopback (a company mirror, verdaccio in the tests) is not reachable from a
// build container anyway. npm runs here with --ignore-scripts (no package code runs on the
// builder's host) against the configured registry only (GITFAAS_NPM_REGISTRY, its CA
// GITFAAS_NPM_CA_FILE); the template's Dockerfile copies node_modules in and runs the
// packages' install scripts offline (`npm rebuild`). Installs are cached by what they
// depend on (manifest, lockfile, registry), so an unchanged package.json costs a copy.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';

export interface NpmSettings {
  /** GITFAAS_NPM_REGISTRY; npm's own configuration when unset. */
  registry?: string;
  /** GITFAAS_NPM_CA_FILE: PEM bundle the registry's certificate chains to. */
  caFile?: string;
  /** Where installs and npm's cache are kept between builds. */
  cacheDir: string;
  /** GITFAAS_NPM (the npm binary). */
  npm?: string;
  /** npm gives up on a request after this long (GITFAAS_NPM_FETCH_TIMEOUT). */
  fetchTimeoutMs?: number;
}

export class NpmInstallError extends Error {
  override name = 'NpmInstallError';
}

const NETWORK_CODES = /\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_HAS_EXPIRED|ERR_SOCKET_TIMEOUT)\b/;

/** The lines of npm's output that say why it failed: its `npm error` lines, minus the log-file footer. */
export function npmErrorLines(output: string[]): string[] {
  const errors = output
    .filter((l) => /^npm (error|ERR!)/.test(l))
    .map((l) => l.replace(/^npm (error|ERR!) ?/, '').trim())
    .filter((l) => l && !/^A complete log of this run can be found in/.test(l) && !/^\/.*debug-\d+\.log$/.test(l));
  if (errors.length) return errors;
  return output.filter((l) => l.trim()).slice(-3);
}

/** One line for a status: npm's own words, the most specific first. */
export function npmFailureReason(lines: string[], registry: string | undefined): string {
  const wanted = lines.filter((l) => !/^(code|errno|syscall) /.test(l));
  const text = (wanted.length ? wanted : lines).join('; ');
  const all = lines.join(' ');
  if (NETWORK_CODES.test(all)) {
    // npm's "request to URL failed, reason: connect ECONNREFUSED ..." says it best, without the URL.
    const why = /reason: (.+?)(;|$)/.exec(all)?.[1] ?? NETWORK_CODES.exec(all)![1];
    return `npm registry ${registry ?? "(npm's default)"} unreachable${registry ? ' (GITFAAS_NPM_REGISTRY)' : ''}: ${why}`;
  }
  return `npm install failed: ${text}`;
}

function run(cmd: string, args: string[], cwd: string, env: Record<string, string>, log: (line: string) => void, signal: AbortSignal): Promise<{ code: number; output: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, signal, stdio: ['ignore', 'pipe', 'pipe'] });
    const output: string[] = [];
    let partial = '';
    const onData = (chunk: Buffer) => {
      const parts = (partial + chunk.toString('utf8')).split(/\r?\n/);
      partial = parts.pop() ?? '';
      for (const p of parts) {
        output.push(p);
        log(p);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err) => reject(new NpmInstallError(`cannot run ${cmd}: ${err.message}`, { cause: err })));
    child.on('close', (code) => {
      if (partial) {
        output.push(partial);
        log(partial);
      }
      resolve({ code: code ?? 1, output });
    });
  });
}

const exists = (p: string) => stat(p).then(() => true, () => false);

/**
 * Installs the dependencies declared in depsDir/package.json into depsDir/node_modules.
 * Returns false when there is nothing to install.
 */
export async function installNodeDependencies(depsDir: string, settings: NpmSettings, log: (line: string) => void, signal: AbortSignal): Promise<boolean> {
  const manifest = await readFile(path.join(depsDir, 'package.json'), 'utf8');
  const pkg = JSON.parse(manifest) as { dependencies?: Record<string, string> };
  if (Object.keys(pkg.dependencies ?? {}).length === 0) return false;
  const lockName = (await exists(path.join(depsDir, 'package-lock.json'))) ? 'package-lock.json' : (await exists(path.join(depsDir, 'npm-shrinkwrap.json'))) ? 'npm-shrinkwrap.json' : undefined;
  const lock = lockName ? await readFile(path.join(depsDir, lockName), 'utf8') : '';
  const ca = settings.caFile ? await readFile(settings.caFile, 'utf8') : '';
  // file: dependencies are part of the key through their folders' presence only; they are
  // small and rarely change, and are re-copied whenever package.json changes.
  const key = createHash('sha256').update(JSON.stringify([manifest, lock, settings.registry ?? '', ca])).digest('hex').slice(0, 32);
  const cached = path.join(settings.cacheDir, 'installs', key);
  const target = path.join(depsDir, 'node_modules');
  if (await exists(path.join(cached, 'node_modules'))) {
    log(`npm dependencies: reusing the install of this package.json (${key.slice(0, 12)})`);
    await cp(path.join(cached, 'node_modules'), target, { recursive: true, verbatimSymlinks: true });
    return true;
  }
  const npm = settings.npm ?? 'npm';
  const args = [
    lockName ? 'ci' : 'install',
    '--omit=dev',
    '--ignore-scripts',
    '--install-links',
    '--no-audit',
    '--no-fund',
    '--no-update-notifier',
    '--fetch-retries=0',
    `--fetch-timeout=${settings.fetchTimeoutMs ?? 20_000}`,
    ...(settings.registry ? [`--registry=${settings.registry}`] : []),
    ...(settings.caFile ? [`--cafile=${settings.caFile}`] : []),
  ];
  // npm sees only what it needs: `npm run` on the host sets npm_config_* variables that
  // would otherwise steer this install.
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    npm_config_cache: path.join(settings.cacheDir, 'cache'),
    npm_config_loglevel: 'warn',
  };
  for (const k of ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy']) if (process.env[k]) env[k] = process.env[k]!;
  log(`npm dependencies: npm ${args[0]} from ${settings.registry ?? "npm's configured registry"}`);
  const started = Date.now();
  const { code, output } = await run(npm, args, depsDir, env, (l) => log(`npm: ${l}`), signal);
  if (code !== 0) throw new NpmInstallError(npmFailureReason(npmErrorLines(output), settings.registry));
  log(`npm dependencies installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  // The lockfile npm wrote when there was none would make this context differ from a reused one's.
  if (!lockName) await rm(path.join(depsDir, 'package-lock.json'), { force: true });
  // The install moves into the cache and is copied back the same way a reused one is, so
  // the build context (and BuildKit's cache key for its COPY) is the same either way.
  const staging = `${cached}.${process.pid}.${Date.now()}`;
  await mkdir(staging, { recursive: true });
  await rename(target, path.join(staging, 'node_modules'));
  await rename(staging, cached).catch(() => undefined);
  const from = (await exists(path.join(cached, 'node_modules'))) ? cached : staging;
  await cp(path.join(from, 'node_modules'), target, { recursive: true, verbatimSymlinks: true });
  if (from !== staging) await rm(staging, { recursive: true, force: true });
  return true;
}
