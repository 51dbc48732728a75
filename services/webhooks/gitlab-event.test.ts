import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { normaliseGitLabEvent } from './gitlab-event.js';

const fixtures = path.resolve(import.meta.dirname, '../../../test/fixtures/gitlab');
const load = (name: string) => JSON.parse(readFileSync(path.join(fixtures, name), 'utf8'));

test('a push to the default branch builds and deploys', () => {
  const event = normaliseGitLabEvent('Push Hook', load('push.json'));
  assert.equal(event.action, 'build');
  assert.ok(event.action === 'build');
  assert.equal(event.kind, 'push');
  assert.deepEqual(event.source, {
    scm: 'gitlab',
    owner: 'mike',
    repo: 'diaspora',
    fullName: 'mike/diaspora',
    repoId: 15,
    cloneUrl: 'http://example.com/mike/diaspora.git',
    private: true,
    sha: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
    branch: 'master',
    defaultBranch: 'master',
    namespace: 'gl-mike',
  });
});

test('a push to another branch is skipped with a reason', () => {
  const payload = { ...load('push.json'), ref: 'refs/heads/feature' };
  const event = normaliseGitLabEvent('Push Hook', payload);
  assert.equal(event.action, 'skip');
  assert.ok(event.action === 'skip');
  assert.match(event.reason, /push to feature, not the default branch master/);
});

test('branch deletions and tags are ignored', () => {
  const deleted = { ...load('push.json'), after: '0'.repeat(40), checkout_sha: null };
  assert.equal(normaliseGitLabEvent('Push Hook', deleted).action, 'ignore');
  assert.equal(normaliseGitLabEvent('Tag Push Hook', load('push.json')).action, 'ignore');
});

test('an opened merge request builds its head commit from the source project', () => {
  const event = normaliseGitLabEvent('Merge Request Hook', load('merge_request.json'));
  assert.ok(event.action === 'build');
  assert.equal(event.kind, 'pull_request');
  assert.equal(event.source.pullRequest, 1);
  assert.equal(event.source.sha, 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7');
  assert.equal(event.source.branch, 'ms-viewport');
  assert.equal(event.source.cloneUrl, 'http://example.com/awesome_space/awesome_project.git');
  assert.equal(event.source.namespace, 'gl-gitlabhq');
  assert.equal(event.source.repoId, 1);
});

test('merge request updates without new commits are ignored', () => {
  const payload = load('merge_request.json');
  payload.object_attributes.action = 'update';
  assert.equal(normaliseGitLabEvent('Merge Request Hook', payload).action, 'ignore');
  payload.object_attributes.oldrev = 'b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327';
  assert.equal(normaliseGitLabEvent('Merge Request Hook', payload).action, 'build');
});

test('a closed or merged merge request removes its previews; one from another project is a fork', () => {
  const payload = load('merge_request.json');
  assert.equal((normaliseGitLabEvent('Merge Request Hook', payload) as { source: { fork?: boolean } }).source.fork, undefined);
  payload.object_attributes.action = 'merge';
  payload.object_attributes.state = 'merged';
  const merged = normaliseGitLabEvent('Merge Request Hook', payload);
  assert.ok(merged.action === 'close-preview');
  assert.equal(merged.reason, 'merged');
  assert.equal(merged.source.pullRequest, 1);
  payload.object_attributes.action = 'close';
  payload.object_attributes.state = 'closed';
  const closed = normaliseGitLabEvent('Merge Request Hook', payload);
  assert.ok(closed.action === 'close-preview' && closed.reason === 'closed');
  const fork = load('merge_request.json');
  fork.object_attributes.source_project_id = 99;
  const f = normaliseGitLabEvent('Merge Request Hook', fork);
  assert.ok(f.action === 'build');
  assert.equal(f.source.fork, true);
});

test('a malformed payload names the field', () => {
  const payload = load('push.json');
  delete payload.project.git_http_url;
  assert.throws(() => normaliseGitLabEvent('Push Hook', payload), /malformed Push Hook payload: project\.git_http_url/);
});
