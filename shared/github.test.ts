import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { generateAppKey, startFakeGitHub, type FakeGitHub } from '../test/fakes/github-api.js';
import { buildLogKey, newBuildLogToken } from './build-logs.js';
import { ConfigError } from './config.js';
import { GitHub, GitHubStatusReporter, githubSettings } from './github.js';
import type { SourceRef } from './jobs.js';
import { silentLogger } from './logger.js';

const log = silentLogger();

function source(overrides: Partial<SourceRef> = {}): SourceRef {
  return {
    scm: 'github',
    owner: 'Codertocat',
    repo: 'Hello-World',
    fullName: 'Codertocat/Hello-World',
    repoId: randomInt(1, 2 ** 31),
    cloneUrl: 'https://github.com/Codertocat/Hello-World.git',
    private: true,
    sha: randomBytes(20).toString('hex'),
    branch: 'master',
    defaultBranch: 'master',
    installationId: 7,
    namespace: 'gh-codertocat',
    ...overrides,
  };
}

describe('githubSettings', () => {
  test('an App needs both the id and a PEM key, and wins over a token', () => {
    assert.throws(() => githubSettings({ GITHUB_API_URL: 'https://x', GITHUB_APP_ID: 1 }), ConfigError);
    assert.throws(
      () => githubSettings({ GITHUB_API_URL: 'https://x', GITHUB_APP_ID: 1, GITHUB_APP_PRIVATE_KEY: 'nope' }),
      /PEM/,
    );
    const key = generateAppKey().privateKey;
    const s = githubSettings({ GITHUB_API_URL: 'https://x/', GITHUB_APP_ID: 1, GITHUB_APP_PRIVATE_KEY: key, GITHUB_TOKEN: 't' });
    assert.equal(s.credentials.kind, 'app');
    assert.equal(s.apiUrl, 'https://x');
    assert.equal(githubSettings({ GITHUB_API_URL: 'https://x', GITHUB_TOKEN: 't' }).credentials.kind, 'token');
    assert.equal(githubSettings({ GITHUB_API_URL: 'https://x' }).credentials.kind, 'none');
  });
});

describe('GitHub with a token', () => {
  let fake: FakeGitHub;
  let redis: Redis;
  const token = `ghp_${randomBytes(8).toString('hex')}`;
  before(async () => {
    fake = await startFakeGitHub({ token });
    redis = new Redis('redis://127.0.0.1:6379');
  });
  after(async () => {
    await fake.stop();
    redis.disconnect();
  });

  test('reports commit statuses through octokit, one line, state mapped', async () => {
    const github = new GitHub(githubSettings({ GITHUB_API_URL: fake.url, GITHUB_TOKEN: token }), log);
    const reporter = new GitHubStatusReporter(github, redis, log, `test-${randomBytes(4).toString('hex')}`);
    const src = source();
    await reporter.report(src, { context: 'gitfaas', state: 'running', description: 'building\n2 functions' });
    await reporter.report(src, { context: 'gitfaas', state: 'success', description: 'x'.repeat(300), targetUrl: 'http://127.0.0.1/f' });
    const sent = fake.statusesFor(src.sha, 'gitfaas');
    assert.deepEqual(sent.map((s) => s.state), ['pending', 'success']);
    assert.equal(sent[0].description, 'building 2 functions');
    assert.equal(sent[1].description!.length, 140);
    assert.equal(sent[1].target_url, 'http://127.0.0.1/f');
    assert.equal(fake.calls.at(-1)!.auth, `token ${token}`);
  });

  test('a superseded commit is not a failure: success, saying which commit superseded it', async () => {
    const github = new GitHub(githubSettings({ GITHUB_API_URL: fake.url, GITHUB_TOKEN: token }), log);
    const reporter = new GitHubStatusReporter(github, redis, log, `test-${randomBytes(4).toString('hex')}`);
    const src = source();
    await reporter.report(src, { context: 'gitfaas', state: 'cancelled', description: 'superseded by 1a2b3c4' });
    const [sent] = fake.statusesFor(src.sha, 'gitfaas');
    assert.equal(sent.state, 'success');
    assert.equal(sent.description, 'superseded by 1a2b3c4');
  });

  test('clone credentials: the token for a private repository, nothing for a public one', async () => {
    const github = new GitHub(githubSettings({ GITHUB_API_URL: fake.url, GITHUB_TOKEN: token }), log);
    assert.equal(await github.cloneCredentials(source()), token);
    assert.equal(await github.cloneCredentials(source({ private: false })), undefined);
  });

  test('a wrong token surfaces as an error', async () => {
    const github = new GitHub(githubSettings({ GITHUB_API_URL: fake.url, GITHUB_TOKEN: 'wrong' }), log);
    const reporter = new GitHubStatusReporter(github, redis, log);
    await assert.rejects(reporter.report(source(), { context: 'gitfaas', state: 'pending', description: 'queued' }), /Bad credentials/);
  });
});

describe('GitHub with an App', () => {
  let fake: FakeGitHub;
  let redis: Redis;
  const appId = randomInt(1000, 100000);
  const keys = generateAppKey();
  before(async () => {
    fake = await startFakeGitHub({ app: { appId, publicKey: keys.publicKey } });
    redis = new Redis('redis://127.0.0.1:6379');
  });
  after(async () => {
    await fake.stop();
    redis.disconnect();
  });

  test('one check run per context, updated in place, one installation token reused', async () => {
    const settings = githubSettings({ GITHUB_API_URL: fake.url, GITHUB_APP_ID: appId, GITHUB_APP_PRIVATE_KEY: keys.privateKey });
    const prefix = `test-${randomBytes(4).toString('hex')}`;
    // Two reporters with separate GitHub clients stand for two workers.
    const a = new GitHubStatusReporter(new GitHub(settings, log), redis, log, prefix);
    const b = new GitHubStatusReporter(new GitHub(settings, log), redis, log, prefix);
    const src = source();
    await Promise.all([
      a.report(src, { context: 'gitfaas', state: 'pending', description: 'queued' }),
      b.report(src, { context: 'gitfaas', state: 'pending', description: 'queued' }),
      a.report(src, { context: 'gitfaas/hello', state: 'pending', description: 'queued' }),
    ]);
    await a.report(src, { context: 'gitfaas', state: 'running', description: 'building' });
    await b.report(src, {
      context: 'gitfaas',
      state: 'failure',
      description: 'build failed',
      targetUrl: 'http://127.0.0.1:8081/logs/abc',
      details: { title: 'build failed', summary: 'clone 0.1 s', text: 'npm ERR!' },
    });
    const runs = [...fake.checkRuns.values()].filter((r) => r.head_sha === src.sha);
    assert.deepEqual(runs.map((r) => r.name).sort(), ['gitfaas', 'gitfaas/hello']);
    const aggregate = runs.find((r) => r.name === 'gitfaas')!;
    assert.equal(aggregate.status, 'completed');
    assert.equal(aggregate.conclusion, 'failure');
    assert.equal(aggregate.details_url, 'http://127.0.0.1:8081/logs/abc');
    assert.equal(aggregate.output?.text, 'npm ERR!');
    assert.deepEqual(aggregate.history.map((h) => h.status), ['queued', 'queued', 'in_progress', 'completed']);
    // Each client minted one token for installation 7 and reused it.
    const tokenCalls = fake.calls.filter((c) => c.path === '/app/installations/7/access_tokens');
    assert.equal(tokenCalls.length, 2);
  });

  test('a superseded commit\'s check run ends neutral, not failed, naming the newer commit', async () => {
    const settings = githubSettings({ GITHUB_API_URL: fake.url, GITHUB_APP_ID: appId, GITHUB_APP_PRIVATE_KEY: keys.privateKey });
    const reporter = new GitHubStatusReporter(new GitHub(settings, log), redis, log, `test-${randomBytes(4).toString('hex')}`);
    const src = source();
    await reporter.report(src, { context: 'gitfaas', state: 'running', description: 'building' });
    await reporter.report(src, { context: 'gitfaas', state: 'cancelled', description: 'superseded by 1a2b3c4' });
    const run = [...fake.checkRuns.values()].find((r) => r.head_sha === src.sha)!;
    assert.equal(run.status, 'completed');
    assert.equal(run.conclusion, 'neutral');
    assert.equal(run.output?.title, 'superseded by 1a2b3c4');
  });

  test('a failed check run carries the tail of the build log it links to', async () => {
    const settings = githubSettings({ GITHUB_API_URL: fake.url, GITHUB_APP_ID: appId, GITHUB_APP_PRIVATE_KEY: keys.privateKey });
    const prefix = `test-${randomBytes(4).toString('hex')}`;
    const reporter = new GitHubStatusReporter(new GitHub(settings, log), redis, log, prefix);
    const token = newBuildLogToken();
    for (let i = 0; i < 100; i++) await redis.xadd(buildLogKey(prefix, token), '*', 'l', `line ${i}`);
    await redis.expire(buildLogKey(prefix, token), 60);
    const src = source();
    await reporter.report(src, { context: 'gitfaas', state: 'failure', description: 'build failed: npm ERR!', targetUrl: `http://127.0.0.1:8081/logs/${token}` });
    const run = [...fake.checkRuns.values()].find((r) => r.head_sha === src.sha)!;
    assert.equal(run.conclusion, 'failure');
    assert.equal(run.output?.title, 'build failed: npm ERR!');
    assert.match(run.output?.text ?? '', /line 40\nline 41[\s\S]*line 99\n```$/);
    assert.doesNotMatch(run.output?.text ?? '', /line 39\n/);
    await redis.del(buildLogKey(prefix, token));
  });

  test('clone credentials of a private repository are an installation token', async () => {
    const github = new GitHub(
      githubSettings({ GITHUB_API_URL: fake.url, GITHUB_APP_ID: appId, GITHUB_APP_PRIVATE_KEY: keys.privateKey }),
      log,
    );
    const token = await github.cloneCredentials(source());
    assert.ok(token && fake.installationTokens.includes(token));
  });

  test('an App key the host does not know is refused', async () => {
    const other = generateAppKey();
    const github = new GitHub(
      githubSettings({ GITHUB_API_URL: fake.url, GITHUB_APP_ID: appId, GITHUB_APP_PRIVATE_KEY: other.privateKey }),
      log,
    );
    await assert.rejects(github.cloneCredentials(source()), /JSON web token/);
  });
});
