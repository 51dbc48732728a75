// Failure (issue 8 §6): a builder killed with SIGKILL during a build left its clone
// behind in STATE_DIR/builds, for ever. A real builder process is killed while its clone
// is held in flight by the git server; the next builder to start on that state directory
// removes the dead builder's work directory, and only it: a directory of a process that
// still runs, one of another host and one whose name gitfaas did not make are left alone.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { BuilderHarness } from '../builder/harness.js';
import { startGitHttpServer, type GitHttpServer } from '../builder/git-http-server.js';
import { TestRepo } from '../builder/git-repo.js';
import { repoRoot } from '../helpers/repo-root.js';
import { waitFor } from '../helpers/wait.js';

const h = new BuilderHarness();
let root: string;
let git: GitHttpServer;
let held = 0;
let release!: () => void;
const released = new Promise<void>((resolve) => (release = resolve));
const children: ChildProcess[] = [];

before(async () => {
  await h.start();
  root = await mkdtemp(path.join(os.tmpdir(), 'gitfaas-sec-stale-'));
  git = await startGitHttpServer(path.join(root, 'served'), undefined, {
    hold: async () => {
      held += 1;
      await released;
    },
  });
});

after(async () => {
  release();
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await h.stop();
  await git?.close();
  await rm(root, { recursive: true, force: true });
});

test('a builder killed with SIGKILL mid-clone: the next builder removes its work directory, and nothing else', async () => {
  const stateDir = path.join(h.root, 'state');
  const buildsDir = path.join(stateDir, 'builds');
  // The working copy's folder name is the repository's name in h.source().
  const repo = await TestRepo.create(path.join(root, 'killed'), path.join(root, 'served', h.owner, 'killed.git'));
  const sha = await repo.commit({ 'stack.yml': 'functions: {}\n' });

  const builder = spawn(process.execPath, [path.join(repoRoot(), 'dist/services/builder/main.js')], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      GITFAAS_STATE_DIR: stateDir,
      GITFAAS_QUEUE_PREFIX: h.prefix,
      GITFAAS_GIT_HOSTS: git.url,
      GITFAAS_WEBHOOKS_PUBLIC_URL: h.logBase,
      GITFAAS_LOG_LEVEL: 'warn',
    },
    stdio: 'ignore',
  });
  children.push(builder);
  const source = h.source(repo, sha, { cloneUrl: `${git.url}/${h.owner}/killed.git` });
  await h.enqueue(source);
  await waitFor('the builder process to hold a clone in flight', async () => held > 0, 60_000, 50);
  const [dead] = await readdir(buildsDir);
  assert.ok(dead, 'the clone has a work directory');
  const hostTag = dead.slice(0, dead.lastIndexOf(`-${builder.pid}-`));
  assert.ok(dead.startsWith(`${hostTag}-${builder.pid}-${sha.slice(0, 12)}-`), `named after the process: ${dead}`);

  builder.kill('SIGKILL');
  await waitFor('the builder to die', async () => builder.signalCode === 'SIGKILL', 10_000, 20);
  // Its job would be retried once its lock expires; the queue is emptied so that the next
  // builder only has the stale directory to deal with.
  await h.builds.obliterate({ force: true });

  // A process that still runs, another host, and a name gitfaas did not make.
  const alive = spawn('sleep', ['120'], { stdio: 'ignore' });
  children.push(alive);
  const keep = [`${hostTag}-${alive.pid}-${'a'.repeat(12)}-${'b'.repeat(12)}`, `elsewhere-${builder.pid}-${'c'.repeat(12)}-${'d'.repeat(12)}`, 'notes'];
  for (const name of keep) await mkdir(path.join(buildsDir, name, 'repo'), { recursive: true });

  await h.startBuilder();
  assert.ok(!existsSync(path.join(buildsDir, dead)), 'the dead builder\'s work directory is removed at start');
  assert.deepEqual((await readdir(buildsDir)).sort(), [...keep].sort(), 'everything else is left alone');
  alive.kill('SIGKILL');
});
