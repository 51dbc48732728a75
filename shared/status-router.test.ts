// The status router against both API stand-ins through the real octokit and gitbeaker
// clients: each commit's statuses reach its own host only; clone credentials by host.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { startFakeGitHub } from '../test/fakes/github-api.js';
import { startFakeGitLab } from '../test/fakes/gitlab-api.js';
import { githubSettings } from './github.js';
import { gitlabSettings } from './gitlab.js';
import type { SourceRef } from './jobs.js';
import { silentLogger } from './logger.js';
import { hostClients } from './status-router.js';

test('statuses go to the commit\'s own host, clone credentials carry the host\'s username', async () => {
  const ghToken = `ghp_${randomBytes(8).toString('hex')}`;
  const glToken = `glpat-${randomBytes(8).toString('hex')}`;
  const [github, gitlab] = await Promise.all([startFakeGitHub({ token: ghToken }), startFakeGitLab({ token: glToken })]);
  const redis = new Redis('redis://127.0.0.1:6379');
  try {
    const hosts = hostClients(
      {
        github: githubSettings({ GITHUB_API_URL: github.url, GITHUB_TOKEN: ghToken }),
        gitlab: gitlabSettings({ GITLAB_URL: gitlab.url, GITLAB_TOKEN: glToken }),
      },
      redis,
      silentLogger(),
      `t-router-${randomBytes(3).toString('hex')}`,
    );
    const base = { repo: 'fns', repoId: 7, cloneUrl: 'file:///nowhere', private: true, branch: 'main', defaultBranch: 'main' };
    const gh: SourceRef = { ...base, scm: 'github', owner: 'alice', fullName: 'alice/fns', namespace: 'gh-alice', sha: randomBytes(20).toString('hex') };
    const gl: SourceRef = { ...base, scm: 'gitlab', owner: 'alice', fullName: 'alice/fns', namespace: 'gl-alice', sha: randomBytes(20).toString('hex') };
    await hosts.reporter.report(gh, { context: 'gitfaas', state: 'running', description: 'building' });
    await hosts.reporter.report(gl, { context: 'gitfaas', state: 'running', description: 'building' });
    assert.deepEqual(github.statusesFor(gh.sha).map((s) => s.state), ['pending'], 'GitHub commit statuses have no running state');
    assert.deepEqual(github.statusesFor(gl.sha), []);
    assert.deepEqual([...gitlab.latestFor(gl.sha).values()].map((s) => [s.projectId, s.state]), [['7', 'running']]);
    assert.equal(gitlab.latestFor(gh.sha).size, 0);
    assert.deepEqual(await hosts.cloneCredentials(gh), { username: 'x-access-token', password: ghToken });
    assert.deepEqual(await hosts.cloneCredentials(gl), { username: 'oauth2', password: glToken });
    assert.equal(await hosts.cloneCredentials({ ...gl, private: false }), undefined);
  } finally {
    redis.disconnect();
    await Promise.all([github.stop(), gitlab.stop()]);
  }
});
