// Attack (issue 8 §3), one step further in: a build job that reaches the builder without
// the receiver's check (an older receiver, a job written to Redis by other means) still
// cannot take the clone, or the token, anywhere but a configured origin, and a configured
// git host that redirects cannot forward git (with its credentials) to another host.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { AGGREGATE_CONTEXT } from '../../shared/status.js';
import { BuilderHarness } from '../builder/harness.js';
import { startGitHttpServer, type GitHttpServer } from '../builder/git-http-server.js';
import { TestRepo } from '../builder/git-repo.js';

const TOKEN = 'ghs_security-test-token-0123456789abcdef';
const h = new BuilderHarness();
let elsewhere: GitHttpServer;
let redirector: Server;
let redirectorUrl: string;
let root: string;
const asked: string[] = [];
let lane: Awaited<ReturnType<BuilderHarness['lane']>>;

before(async () => {
  await h.start();
  root = await mkdtemp(path.join(os.tmpdir(), 'gitfaas-sec-origins-'));
  elsewhere = await startGitHttpServer(path.join(root, 'elsewhere'));
  // A configured host that answers every request with a redirect to the other host.
  redirector = createServer((req, res) => res.writeHead(302, { location: `${elsewhere.url}${req.url}` }).end());
  await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
  redirectorUrl = `http://127.0.0.1:${(redirector.address() as AddressInfo).port}`;
  lane = await h.lane({ GITFAAS_GIT_HOSTS: `${h.git.url},${redirectorUrl}` }, undefined, {
    cloneCredentials: async (source) => {
      asked.push(source.cloneUrl);
      return { username: 'x-access-token', password: TOKEN };
    },
  });
});

after(async () => {
  await h.stop();
  await elsewhere?.close();
  redirector?.closeAllConnections();
  await new Promise((resolve) => redirector?.close(resolve));
  await rm(root, { recursive: true, force: true });
});

async function failedWith(source: ReturnType<BuilderHarness['source']>): Promise<string> {
  const { state } = await h.finished(await h.enqueue(source, 'push', { queue: lane.builds }), lane.builds, 60_000);
  assert.equal(state, 'failed');
  return h.reporter.last(source.sha, AGGREGATE_CONTEXT)!.description;
}

test('a job whose clone URL is on another host fails naming the refusal; no token is fetched or sent', async () => {
  const repo = await h.repo('elsewhere');
  const sha = await repo.commit({ 'stack.yml': 'functions: {}\n' });
  const source = h.source(repo, sha, { private: true, cloneUrl: `${elsewhere.url}/${h.owner}/elsewhere.git` });
  assert.match(await failedWith(source), new RegExp(`clone URL on ${elsewhere.url.replace(/\./g, '\\.')} refused`));
  assert.deepEqual(asked, [], 'credentials were never asked for');
  assert.deepEqual(elsewhere.requests, []);
});

test("a job with a file:// URL of another owner's repository fails; nothing is cloned", async () => {
  const victim = await TestRepo.create(path.join(root, 'victim'));
  const sha = await victim.commit({ 'stack.yml': 'functions:\n  stolen: { lang: node20, handler: fn }\n', 'fn/handler.js': 'module.exports = async () => "bob";\n' });
  const repo = await h.repo('file');
  const source = h.source(repo, sha, { cloneUrl: victim.url });
  const reason = await failedWith(source);
  assert.match(reason, /clone URL on file:\/\/ refused/);
  assert.doesNotMatch(await h.log(h.reporter.last(sha, AGGREGATE_CONTEXT)!.targetUrl!), /cloning|stolen/);
});

test('a configured host that redirects elsewhere: git does not follow, the other host hears nothing', async () => {
  const repo = await h.repo('redirected');
  const sha = await repo.commit({ 'stack.yml': 'functions: {}\n' });
  await TestRepo.create(path.join(root, 'w'), path.join(root, 'elsewhere', h.owner, 'redirected.git')).then((r) => r.commit({ 'x': '1' }));
  const source = h.source(repo, sha, { private: true, cloneUrl: `${redirectorUrl}/${h.owner}/redirected.git` });
  const { state } = await h.finished(await h.enqueue(source, 'push', { queue: lane.builds }), lane.builds, 120_000);
  assert.equal(state, 'failed');
  assert.match(h.reporter.last(sha, AGGREGATE_CONTEXT)!.description, /clone of .* failed/);
  assert.deepEqual(asked, [source.cloneUrl], 'the token was asked for the configured host only');
  assert.deepEqual(elsewhere.requests, [], 'the redirect was not followed');
  assert.deepEqual(elsewhere.authorizations, []);
});
