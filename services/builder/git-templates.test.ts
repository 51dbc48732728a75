// configuration.templates sources checked before anything is fetched: the origin rule of
// clones, no userinfo, no query, and a ref that git could read as an option refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseOrigin } from '../../shared/git-origins.js';
import { parseTemplateSource } from './git-templates.js';

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
