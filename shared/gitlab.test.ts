import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startFakeGitLab, type FakeGitLab } from '../test/fakes/gitlab-api.js';
import type { SourceRef } from './jobs.js';
import { GitLab, gitlabSettings, GitLabStatusReporter } from './gitlab.js';
import { silentLogger } from './logger.js';

const source: SourceRef = {
  scm: 'gitlab', owner: 'mike', repo: 'diaspora', fullName: 'mike/diaspora', repoId: 15,
  cloneUrl: 'http://127.0.0.1:1/mike/diaspora.git', private: true,
  sha: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7', branch: 'master', defaultBranch: 'master', namespace: 'gl-mike',
};

let fake: FakeGitLab;
before(async () => {
  fake = await startFakeGitLab({ token: 'glpat-test' });
});
after(() => fake.stop());

test('statuses go through the real gitbeaker client: pending, running, failed', async () => {
  const gitlab = new GitLab(gitlabSettings({ GITLAB_URL: fake.url, GITLAB_TOKEN: 'glpat-test' }));
  const reporter = new GitLabStatusReporter(gitlab, silentLogger());
  await reporter.report(source, { context: 'gitfaas', state: 'pending', description: 'queued' });
  await reporter.report(source, { context: 'gitfaas', state: 'running', description: 'building' });
  // The same state twice is refused by GitLab; the reporter treats it as done.
  await reporter.report(source, { context: 'gitfaas', state: 'running', description: 'building' });
  await reporter.report(source, { context: 'gitfaas/echo', state: 'failure', description: 'build failed', targetUrl: 'http://127.0.0.1:8081/logs/x' });
  assert.deepEqual(fake.statuses.map((s) => [s.name, s.state]), [
    ['gitfaas', 'pending'], ['gitfaas', 'running'], ['gitfaas/echo', 'failed'],
  ]);
  const failed = fake.latestFor(source.sha).get('gitfaas/echo')!;
  assert.equal(failed.projectId, '15');
  assert.equal(failed.targetUrl, 'http://127.0.0.1:8081/logs/x');
  assert.equal(failed.ref, 'master');
  assert.equal(gitlab.cloneCredentials(source), 'glpat-test');
  assert.equal(gitlab.cloneCredentials({ ...source, private: false }), undefined);
});

test('a superseded commit ends canceled, not failed, naming the newer commit', async () => {
  const reporter = new GitLabStatusReporter(new GitLab(gitlabSettings({ GITLAB_URL: fake.url, GITLAB_TOKEN: 'glpat-test' })), silentLogger());
  const sha = 'b'.repeat(40);
  await reporter.report({ ...source, sha }, { context: 'gitfaas', state: 'running', description: 'building' });
  await reporter.report({ ...source, sha }, { context: 'gitfaas', state: 'cancelled', description: 'superseded by 1a2b3c4' });
  const status = fake.latestFor(sha).get('gitfaas')!;
  assert.equal(status.state, 'canceled');
  assert.equal(status.description, 'superseded by 1a2b3c4');
});

test('a wrong token is an error that names the commit', async () => {
  const reporter = new GitLabStatusReporter(new GitLab(gitlabSettings({ GITLAB_URL: fake.url, GITLAB_TOKEN: 'wrong' })), silentLogger());
  await assert.rejects(reporter.report(source, { context: 'gitfaas', state: 'success', description: 'ok' }), /mike\/diaspora@da15608/);
});
