import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkCloneUrl, gitOrigins, parseOrigin } from './git-origins.js';

const origins = gitOrigins({
  githubUrl: 'https://github.com',
  gitlabUrl: 'https://git.example.com/gitlab',
  extra: [parseOrigin('http://127.0.0.1:3000')],
});
const gh = (cloneUrl: string, extra: { pullRequest?: number } = {}) => checkCloneUrl({ scm: 'github', cloneUrl, fullName: 'Alice/fns', ...extra }, origins);

test('scheme, host and port are compared exactly; the default port is the same origin', () => {
  assert.deepEqual(gh('https://github.com/Alice/fns.git'), { ok: true, namesRepository: true });
  assert.deepEqual(gh('https://GitHub.com:443/alice/FNS'), { ok: true, namesRepository: true });
  assert.equal(gh('http://github.com/Alice/fns.git').ok, false, 'http is not https');
  assert.equal(gh('https://github.com:8443/Alice/fns.git').ok, false, 'another port');
  assert.equal(gh('https://github.com.evil.example/Alice/fns.git').ok, false);
  assert.equal(gh('http://127.0.0.1:3001/Alice/fns.git').ok, false);
  assert.deepEqual(gh('http://127.0.0.1:3000/Alice/fns.git'), { ok: true, namesRepository: true });
});

test('file://, relative paths, scp-like ssh, userinfo and queries are refused with a reason', () => {
  for (const url of ['file:///srv/git/Alice/fns.git', '/srv/git/Alice/fns.git', 'git@github.com:Alice/fns.git', 'https://x-access-token:t@github.com/Alice/fns.git', 'https://github.com/Alice/fns.git?x=1']) {
    const check = gh(url);
    assert.equal(check.ok, false, url);
    assert.ok(!check.ok && check.problem.length > 10, url);
  }
});

test("the path must be the event's repository under the origin's base path; a pull request's fork head gets no credentials", () => {
  const other = gh('https://github.com/bob/secret.git');
  assert.ok(!other.ok && /does not name the repository Alice\/fns/.test(other.problem));
  assert.deepEqual(gh('https://github.com/Forker/fns.git', { pullRequest: 3 }), { ok: true, namesRepository: false });
  const gl = (cloneUrl: string) => checkCloneUrl({ scm: 'gitlab', cloneUrl, fullName: 'group/sub/fns' }, origins);
  assert.deepEqual(gl('https://git.example.com/gitlab/group/sub/fns.git'), { ok: true, namesRepository: true });
  assert.equal(gl('https://git.example.com/group/sub/fns.git').ok, false, 'outside the base path');
  assert.equal(gl('https://github.com/group/sub/fns.git').ok, false, "GitHub's origin is not GitLab's");
});
