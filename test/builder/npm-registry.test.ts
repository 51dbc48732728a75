// node20 dependencies from the configured npm registry (GITFAAS_NPM_REGISTRY), for real:
// verdaccio on 127.0.0.1 (an ephemeral port, config and storage in a temp dir, no uplinks),
// a tiny package published to it by this test with npm, a function built against it;
// then a version the registry does not have, and a registry that is not there.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import type { AddressInfo, Server } from 'node:net';
import { connect } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { AGGREGATE_CONTEXT } from '../../shared/status.js';
import { nodeHandler } from '../helpers/gitops-stack.js';
import { BuilderHarness } from './harness.js';

const run = promisify(execFile);
const h = new BuilderHarness();
const fn = (name: string) => `${AGGREGATE_CONTEXT}/${name}`;
let registry: string;
let verdaccio: Server;
const pkgName = `gitfaas-tiny-${h.runId}`;

async function startVerdaccio(dir: string): Promise<{ url: string; server: Server }> {
  await mkdir(path.join(dir, 'storage'), { recursive: true });
  const config = path.join(dir, 'config.yaml');
  await writeFile(
    config,
    [
      `storage: ${path.join(dir, 'storage')}`,
      'auth:',
      '  htpasswd:',
      `    file: ${path.join(dir, 'htpasswd')}`,
      '    max_users: 10',
      // No uplinks: nothing is ever fetched from elsewhere; unknown packages are 404.
      'uplinks: {}',
      'packages:',
      "  '**':",
      '    access: $all',
      '    publish: $authenticated',
      'log: { type: stdout, format: pretty, level: fatal }',
      '',
    ].join('\n'),
  );
  const { runServer } = (await import('verdaccio')) as unknown as { runServer: (config: string) => Promise<Server> };
  const server = await runServer(config);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** Registers a user (verdaccio's htpasswd) and publishes a one-file package with the real npm client. */
async function publishTinyPackage(dir: string): Promise<void> {
  const res = await fetch(`${registry}/-/user/org.couchdb.user:tester`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'tester', password: 'tester-password-1' }),
  });
  assert.equal(res.status, 201, await res.clone().text());
  const { token } = (await res.json()) as { token: string };
  const pkgDir = path.join(dir, 'pkg');
  await mkdir(pkgDir, { recursive: true });
  await writeFile(path.join(pkgDir, 'package.json'), JSON.stringify({ name: pkgName, version: '1.0.0', main: 'index.js' }));
  await writeFile(path.join(pkgDir, 'index.js'), "module.exports = 'from the local registry';\n");
  const npmrc = path.join(dir, 'npmrc');
  await writeFile(npmrc, `//${new URL(registry).host}/:_authToken=${token}\n`);
  await run('npm', ['publish', `--registry=${registry}`, `--userconfig=${npmrc}`, '--no-audit'], { cwd: pkgDir, env: { PATH: process.env.PATH!, HOME: dir } });
}

/** A port nothing listens on: bound, then closed. */
/**
 * A port below the ephemeral range with nothing listening: a port freed by closing a server
 * could be taken by another test's server (port 0) before npm connects to it.
 */
async function closedPort(): Promise<number> {
  for (const port of [1, 9, 47, 1023]) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(false)));
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
    });
    if (refused) return port;
  }
  throw new Error('every low port tried is in use on 127.0.0.1');
}

before(async () => {
  await h.start();
  const dir = path.join(h.root, 'verdaccio');
  ({ url: registry, server: verdaccio } = await startVerdaccio(dir));
  await publishTinyPackage(dir);
});
after(async () => {
  verdaccio?.close();
  await h.stop();
});

const handlerUsing = `'use strict';\nconst tiny = require('${pkgName}');\nmodule.exports = async (event, context) => context.status(200).succeed(tiny);\n`;

describe('npm dependencies from GITFAAS_NPM_REGISTRY', () => {
  test('a function with a dependency published to the local registry builds and runs with it', async () => {
    const lane = await h.lane({ GITFAAS_NPM_REGISTRY: registry });
    const repo = await h.repo('npm-ok');
    const sha = await repo.commit({
      'stack.yml': 'functions:\n  tiny:\n    lang: node20\n    handler: tiny\n',
      'tiny/handler.js': handlerUsing,
      'tiny/package.json': JSON.stringify({ name: 'tiny-fn', version: '1.0.0', dependencies: { [pkgName]: '^1.0.0' } }),
    });
    const source = h.source(repo, sha);
    const { state, job } = await h.finished(await h.enqueue(source, 'push', { queue: lane.builds }), lane.builds);
    assert.equal(state, 'completed', job.failedReason);
    const deploy = (await h.deployJob(source, 'push', lane.deploys))!;
    const log = await h.log(deploy.logUrl!);
    assert.match(log, new RegExp(`\\[tiny\\] npm dependencies: npm install from ${registry.replace(/[.:/]/g, '\\$&')}`));
    assert.match(log, /\[tiny\] npm: added 1 package/);
    const base = await h.run(deploy.functions[0].image);
    assert.equal(await (await fetch(base)).text(), 'from the local registry');
  });

  test('a version the registry does not have: the status names npm\'s error', async () => {
    const lane = await h.lane({ GITFAAS_NPM_REGISTRY: registry });
    const repo = await h.repo('npm-missing');
    const sha = await repo.commit({
      'stack.yml': 'functions:\n  tiny:\n    lang: node20\n    handler: tiny\n',
      'tiny/handler.js': nodeHandler('never'),
      'tiny/package.json': JSON.stringify({ name: 'tiny-fn', version: '1.0.0', dependencies: { [pkgName]: '^7.0.0' } }),
    });
    const { state } = await h.finished(await h.enqueue(h.source(repo, sha), 'push', { queue: lane.builds }), lane.builds);
    assert.equal(state, 'failed');
    const status = h.reporter.last(sha, fn('tiny'))!;
    assert.equal(status.state, 'failure');
    assert.match(status.description, new RegExp(`^npm install failed: .*(No matching version|notarget).*${pkgName}`), status.description);
    assert.match(await h.log(status.targetUrl!), /\[tiny\] npm: npm error/);
  });

  test('an unreachable registry fails fast, saying so', async () => {
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const lane = await h.lane({ GITFAAS_NPM_REGISTRY: dead });
    const repo = await h.repo('npm-dead');
    const sha = await repo.commit({
      'stack.yml': 'functions:\n  tiny:\n    lang: node20\n    handler: tiny\n',
      'tiny/handler.js': handlerUsing,
      'tiny/package.json': JSON.stringify({ name: 'tiny-fn', version: '1.0.0', dependencies: { [pkgName]: '^1.0.0' } }),
    });
    const started = Date.now();
    await h.finished(await h.enqueue(h.source(repo, sha), 'push', { queue: lane.builds }), lane.builds);
    const took = Date.now() - started;
    const status = h.reporter.last(sha, fn('tiny'))!;
    assert.equal(status.state, 'failure');
    assert.match(status.description, new RegExp(`^npm registry ${dead.replace(/[.:/]/g, '\\$&')} unreachable \\(GITFAAS_NPM_REGISTRY\\): .*ECONNREFUSED`), status.description);
    assert.ok(took < 30_000, `failed after ${took} ms`);
  });
});
