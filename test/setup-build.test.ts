// scripts/setup.sh (run by scripts/up.sh at every start) compiles the TypeScript only when a
// source changed since the last build. Run for real, in a copy of the repository: the
// copy's own dist/ and .state/, this checkout's npm packages, the shared services.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFile, cp, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot } from './helpers/repo-root.js';

const run = promisify(execFile);
const root = repoRoot();
let copy: string;

before(async () => {
  copy = await mkdtemp(path.join(os.tmpdir(), 'gitfaas-setup-'));
  const { stdout } = await run('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: root, maxBuffer: 64 << 20 });
  for (const file of stdout.split('\0').filter((f) => f && existsSync(path.join(root, f)))) {
    await mkdir(path.dirname(path.join(copy, file)), { recursive: true });
    await cp(path.join(root, file), path.join(copy, file), { preserveTimestamps: true });
  }
  // The last build with its stamp, when there is one (scripts/test.sh leaves one).
  await cp(path.join(root, 'dist'), path.join(copy, 'dist'), { recursive: true, preserveTimestamps: true });
  // node_modules as a folder of links: should npm ever run in the copy, it replaces links,
  // never this checkout's packages.
  await mkdir(path.join(copy, 'node_modules'));
  for (const entry of await readdir(path.join(root, 'node_modules'))) {
    await symlink(path.join(root, 'node_modules', entry), path.join(copy, 'node_modules', entry));
  }
});
after(() => rm(copy, { recursive: true, force: true }));

async function setup(): Promise<string> {
  const env = { ...process.env };
  delete env.GITFAAS_STATE_DIR; // the copy's own .state
  const { stdout, stderr } = await run('bash', ['scripts/setup.sh'], { cwd: copy, env, timeout: 300_000 });
  return stdout + stderr;
}

const mtime = async (file: string) => (await stat(path.join(copy, file))).mtimeMs;

test('a second start without source changes does not run tsc; a changed source is built', async () => {
  await setup(); // builds if this checkout's dist/ is older than its sources
  const built = { main: await mtime('dist/services/main.js'), names: await mtime('dist/shared/names.js') };

  const again = await setup();
  assert.match(again, /build up to date/);
  assert.doesNotMatch(again, /building the TypeScript/);
  assert.equal(await mtime('dist/services/main.js'), built.main, 'dist/ untouched');
  assert.equal(await mtime('dist/shared/names.js'), built.names);

  const stamp = await readFile(path.join(copy, 'dist/.source-hash'), 'utf8');
  await appendFile(path.join(copy, 'shared/names.ts'), '\nexport const ADDED_BY_THE_SETUP_TEST = 1;\n');
  const changed = await setup();
  assert.match(changed, /building the TypeScript \(sources changed since the last build\)/);
  assert.match(await readFile(path.join(copy, 'dist/shared/names.js'), 'utf8'), /ADDED_BY_THE_SETUP_TEST/);
  assert.notEqual(await readFile(path.join(copy, 'dist/.source-hash'), 'utf8'), stamp);

  assert.match(await setup(), /build up to date/, 'and the next start skips it again');
});
