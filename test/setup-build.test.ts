// scripts/setup.sh (run by scripts/up.sh at every start) compiles the TypeScript only when a
// source changed since the last build. Run for real, in a copy of the repository: the
// copy's own dist/ and .state/, this checkout's npm packages, the shared services.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFile, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { copyCheckout, copyEnv } from './helpers/repo-copy.js';

const run = promisify(execFile);
let copy: string;

before(async () => {
  copy = await copyCheckout('gitfaas-setup-');
});
after(() => rm(copy, { recursive: true, force: true }));

async function setup(): Promise<string> {
  const { stdout, stderr } = await run('bash', ['scripts/setup.sh'], { cwd: copy, env: copyEnv(), timeout: 300_000 });
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
