import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadGitHubFixture } from '../../test/helpers/github-payloads.js';
import { decideGitHubEvent } from './github-event.js';

test('the captured push to master becomes a push build of its repository', () => {
  const d = decideGitHubEvent('push', loadGitHubFixture('push'));
  assert.equal(d.action, 'build');
  if (d.action !== 'build') return;
  assert.equal(d.kind, 'push');
  assert.deepEqual(d.source, {
    scm: 'github',
    owner: 'Codertocat',
    repo: 'Hello-World',
    fullName: 'Codertocat/Hello-World',
    repoId: 186853002,
    defaultBranch: 'master',
    installationId: 1,
    namespace: 'gh-codertocat',
    cloneUrl: 'https://github.com/Codertocat/Hello-World.git',
    private: false,
    sha: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
    branch: 'master',
  });
});

test('tags, deleted branches and other branches are not built', () => {
  const tag = loadGitHubFixture('push');
  tag.ref = 'refs/tags/v1.0';
  assert.equal(decideGitHubEvent('push', tag).action, 'skip');
  const deleted = loadGitHubFixture('push');
  deleted.deleted = true;
  deleted.after = '0'.repeat(40);
  assert.equal(decideGitHubEvent('push', deleted).action, 'skip');
  const other = loadGitHubFixture('push');
  other.ref = 'refs/heads/feature';
  const d = decideGitHubEvent('push', other);
  assert.equal(d.action, 'skip');
  assert.ok(d.action === 'skip' && d.source, 'the commit is told why');
});

test('the captured pull_request synchronize builds the head commit', () => {
  const d = decideGitHubEvent('pull_request', loadGitHubFixture('pull_request.synchronize'));
  assert.equal(d.action, 'build');
  if (d.action !== 'build') return;
  assert.equal(d.kind, 'pull_request');
  assert.equal(d.source.sha, 'ec26c3e57ca3a959ca5aad62de7213c562f8c821');
  assert.equal(d.source.branch, 'changes');
  assert.equal(d.source.pullRequest, 2);
  assert.equal(d.source.repoId, 186853002);
});

test('a fork\'s head is cloned from the fork and numbered by its pull ref', () => {
  const payload = loadGitHubFixture('pull_request.synchronize');
  payload.pull_request.head.repo.id = 999;
  payload.pull_request.head.repo.clone_url = 'https://github.com/Forker/Hello-World.git';
  payload.pull_request.head.ref = 'master';
  const d = decideGitHubEvent('pull_request', payload);
  assert.ok(d.action === 'build');
  assert.equal(d.source.cloneUrl, 'https://github.com/Forker/Hello-World.git');
  assert.equal(d.source.branch, 'pull/2/head');
  assert.equal(d.source.owner, 'Codertocat', 'statuses and the namespace are the base repository\'s');
});

test('payloads without the fields read are invalid, unknown events skipped', () => {
  assert.equal(decideGitHubEvent('push', { ref: 'refs/heads/master' }).action, 'invalid');
  const noSha = loadGitHubFixture('pull_request.synchronize');
  delete noSha.pull_request.head.sha;
  assert.equal(decideGitHubEvent('pull_request', noSha).action, 'invalid');
  assert.equal(decideGitHubEvent('issues', { action: 'opened' }).action, 'skip');
  const labelled = loadGitHubFixture('pull_request.synchronize');
  labelled.action = 'labeled';
  assert.equal(decideGitHubEvent('pull_request', labelled).action, 'skip');
});

test('a closed or merged pull request removes its previews; a fork is marked as one', () => {
  const closed = loadGitHubFixture('pull_request.synchronize');
  closed.action = 'closed';
  const d = decideGitHubEvent('pull_request', closed);
  assert.ok(d.action === 'close-preview');
  assert.equal(d.reason, 'closed');
  assert.equal(d.source.pullRequest, 2);
  assert.equal(d.source.fork, undefined);
  closed.pull_request.merged = true;
  closed.pull_request.head.repo = null;
  const merged = decideGitHubEvent('pull_request', closed);
  assert.ok(merged.action === 'close-preview', 'a deleted fork does not keep its previews alive');
  assert.equal(merged.reason, 'merged');
  const fork = loadGitHubFixture('pull_request.synchronize');
  fork.pull_request.head.repo.id = 999;
  const f = decideGitHubEvent('pull_request', fork);
  assert.ok(f.action === 'build');
  assert.equal(f.source.fork, true);
});
