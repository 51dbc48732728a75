// configuration.templates sources checked before anything is fetched: the origin rule of
// clones, no userinfo, no query, and a ref that git could read as an option refused;
// template.yml's handler_folder, and the build context assembled on real folders.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { parseOrigin } from '../../shared/git-origins.js';
import { handlerFolderOf, parseTemplateSource } from './git-templates.js';
import { prepareGitContext } from './templates.js';

const origins = [parseOrigin('https://github.com'), parseOrigin('http://127.0.0.1:3000')];

test('a source on a configured origin splits into URL and ref; no ref means the default branch', () => {
  assert.deepEqual(parseTemplateSource('https://github.com/openfaas/templates.git#v1.2.0', origins), {
    url: 'https://github.com/openfaas/templates.git',
    ref: 'v1.2.0',
  });
  assert.deepEqual(parseTemplateSource('http://127.0.0.1:3000/a/t.git', origins), { url: 'http://127.0.0.1:3000/a/t.git', ref: 'HEAD' });
  assert.deepEqual(parseTemplateSource('HTTPS://GitHub.com/a/t#feature/x', origins), { url: 'HTTPS://GitHub.com/a/t', ref: 'feature/x' });
});

test('a source off the configured origins, with userinfo, a query or an option-like ref is refused', () => {
  const problem = (source: string) => {
    const parsed = parseTemplateSource(source, origins);
    assert.ok('problem' in parsed, source);
    return parsed.problem;
  };
  assert.equal(
    problem('https://gitlab.com/a/t.git'),
    'template repository on https://gitlab.com refused: templates are fetched only from https://github.com, http://127.0.0.1:3000 (add an origin to GITFAAS_GIT_HOSTS to allow another)',
  );
  assert.match(problem('http://127.0.0.1:3001/a/t.git'), /^template repository on http:\/\/127\.0\.0\.1:3001 refused/);
  assert.match(problem('file:///srv/git/t.git'), /^template repository on file:\/\/ refused/);
  assert.match(problem('https://user:token@github.com/a/t.git'), /carries no user or password/);
  assert.doesNotMatch(problem('https://user:token@github.com/a/t.git'), /token/, 'the password is not repeated');
  assert.match(problem('https://github.com/a/t.git?x=1'), /has no query/);
  assert.match(problem('github.com/a/t.git'), /is not an absolute git URL/);
  assert.equal(problem('https://github.com/a/t.git#--upload-pack=touch'), 'ref "--upload-pack=touch" is not a branch, tag or commit name');
  assert.match(problem('https://github.com/a/t.git#a..b'), /is not a branch, tag or commit name/);
  assert.match(problem('https://github.com/a/t.git#'), /ref "" is not/);
});

test("template.yml's handler_folder places the handler as faas-cli does; a symlink on its way is refused", async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'gitfaas-git-template-'));
  try {
    const template = path.join(root, 'template', 'greet');
    const handler = path.join(root, 'handler');
    await mkdir(path.join(template, 'src'), { recursive: true });
    await mkdir(handler);
    await writeFile(path.join(template, 'Dockerfile'), 'FROM scratch\n');
    await writeFile(path.join(template, 'src', 'sample.js'), 'sample');
    await writeFile(path.join(handler, 'handler.js'), 'mine');
    assert.equal(await handlerFolderOf(template), 'function', 'no template.yml: function/');
    await writeFile(path.join(template, 'template.yml'), 'language: greet\nhandler_folder: ./src/\n');
    assert.equal(await handlerFolderOf(template), 'src');
    const context = await prepareGitContext({ dir: template, handlerFolder: 'src' }, { handlerDir: handler, contextDir: path.join(root, 'ctx') });
    assert.deepEqual((await readdir(context.dir)).sort(), ['Dockerfile', 'src', 'template.yml']);
    assert.deepEqual((await readdir(path.join(context.dir, 'src'))).sort(), ['handler.js', 'sample.js']);
    assert.deepEqual(context.buildArgs, {});

    for (const [yml, problem] of [
      ['handler_folder: ../up\n', /handler_folder "\.\.\/up" must stay inside the template/],
      ['handler_folder: /etc\n', /handler_folder "\/etc" must be relative to the template/],
      ['handler_folder: .\n', /must be a folder inside the template/],
      ['handler_folder: [a]\n', /handler_folder must be a folder name/],
      ['handler_folder: "a\n', /template\.yml is not valid YAML/],
    ] as const) {
      await writeFile(path.join(template, 'template.yml'), yml);
      const found = await handlerFolderOf(template);
      assert.ok(typeof found !== 'string', yml);
      assert.match(found.problem, problem);
    }
    await rm(path.join(template, 'template.yml'));
    await symlink('/etc/hostname', path.join(template, 'template.yml'));
    assert.deepEqual(await handlerFolderOf(template), { problem: 'template.yml: must be a regular file, not a symlink' });

    await symlink(root, path.join(template, 'out'));
    await assert.rejects(
      prepareGitContext({ dir: template, handlerFolder: path.join('out', 'x') }, { handlerDir: handler, contextDir: path.join(root, 'ctx2') }),
      /handler folder out\/x is not a folder \(a symlink or a file is on its path\)/,
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
