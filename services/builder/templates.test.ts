// Build contexts assembled from the shipped templates, on real folders.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { isTemplate, prepareContext, TEMPLATES, templatesDir, unknownLangMessage } from './templates.js';

let root: string;
const baseImages = { node: 'node-base:1', python: 'python-base:1' };

before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'gitfaas-templates-'));
});
after(() => rm(root, { recursive: true, force: true }));

async function handler(name: string, files: Record<string, string>): Promise<string> {
  const dir = path.join(root, 'repo', name);
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), content);
  }
  await mkdir(dir, { recursive: true });
  return dir;
}

test('the shipped templates are found from the compiled code, outside dist/', () => {
  const dir = templatesDir();
  assert.ok(!dir.split(path.sep).includes('dist'), dir);
  for (const t of TEMPLATES) assert.ok(existsSync(path.join(dir, t)), `${t} in ${dir}`);
  assert.equal(isTemplate('node20'), true);
  assert.equal(isTemplate('go'), false);
  assert.equal(unknownLangMessage('go'), 'unknown lang "go": available templates are dockerfile, node20, python3-http');
});

test('node20: template files, the handler under function/, manifests and local file: deps under deps/', async () => {
  const dir = await handler('n', {
    'handler.js': 'module.exports = async () => 1;\n',
    'package.json': JSON.stringify({ dependencies: { local: 'file:lib/local', remote: '^1.0.0' } }),
    'package-lock.json': '{}',
    'lib/local/index.js': 'module.exports = 1;\n',
  });
  await symlink('/etc/passwd', path.join(dir, 'link-out'));
  await mkdir(path.join(root, 'extra/shared'), { recursive: true });
  await writeFile(path.join(root, 'extra/shared/util.js'), 'x');
  const ctx = path.join(root, 'ctx-node');
  const prepared = await prepareContext({
    lang: 'node20',
    handlerDir: dir,
    contextDir: ctx,
    baseImages,
    extraPaths: [{ rel: 'shared', real: path.join(root, 'extra/shared') }],
  });
  assert.deepEqual(prepared.buildArgs, { BASE_IMAGE: 'node-base:1' });
  for (const f of ['Dockerfile', 'index.js', 'function/handler.js', 'function/shared/util.js', 'deps/package.json', 'deps/package-lock.json', 'deps/lib/local/index.js']) {
    assert.ok(existsSync(path.join(ctx, f)), f);
  }
  assert.ok(!existsSync(path.join(ctx, 'deps/handler.js')), 'code is not part of the dependency layer');
  assert.equal(await readlink(path.join(ctx, 'function/link-out')), '/etc/passwd', 'symlinks are copied as links, never followed');
});

test('node20 without package.json gets an empty manifest; a file: dependency outside the handler is refused', async () => {
  const plain = await handler('plain', { 'handler.js': 'x' });
  await prepareContext({ lang: 'node20', handlerDir: plain, contextDir: path.join(root, 'ctx-plain'), baseImages });
  assert.deepEqual(JSON.parse(await readFile(path.join(root, 'ctx-plain/deps/package.json'), 'utf8')), { private: true });
  const escaping = await handler('escaping', { 'package.json': JSON.stringify({ dependencies: { x: 'file:../../secret' } }) });
  await assert.rejects(prepareContext({ lang: 'node20', handlerDir: escaping, contextDir: path.join(root, 'ctx-esc'), baseImages }), /dependency x: "file:\.\.\/\.\.\/secret" must stay inside/);
});

test('python3-http: requirements.txt (empty when absent) under deps/; dockerfile needs its Dockerfile', async () => {
  const py = await handler('py', { 'handler.py': 'x', 'requirements.txt': 'requests\n' });
  const prepared = await prepareContext({ lang: 'python3-http', handlerDir: py, contextDir: path.join(root, 'ctx-py'), baseImages });
  assert.deepEqual(prepared.buildArgs, { BASE_IMAGE: 'python-base:1' });
  assert.equal(await readFile(path.join(root, 'ctx-py/deps/requirements.txt'), 'utf8'), 'requests\n');
  const bare = await handler('py-bare', { 'handler.py': 'x' });
  await prepareContext({ lang: 'python3-http', handlerDir: bare, contextDir: path.join(root, 'ctx-py-bare'), baseImages });
  assert.equal(await readFile(path.join(root, 'ctx-py-bare/deps/requirements.txt'), 'utf8'), '');
  const noDockerfile = await handler('nodf', { 'main.go': 'x' });
  await assert.rejects(prepareContext({ lang: 'dockerfile', handlerDir: noDockerfile, contextDir: path.join(root, 'ctx-df'), baseImages }), /needs a Dockerfile in the handler folder/);
  const df = await handler('df', { Dockerfile: 'FROM scratch\n', '.git/config': 'secret' });
  const built = await prepareContext({ lang: 'dockerfile', handlerDir: df, contextDir: path.join(root, 'ctx-df2'), baseImages });
  assert.deepEqual(built.buildArgs, {});
  assert.ok(existsSync(path.join(root, 'ctx-df2/Dockerfile')));
  assert.ok(!existsSync(path.join(root, 'ctx-df2/.git')), '.git is never part of a build');
});
