// End to end from GitLab: GitLab's documented Push Hook and Merge Request Hook payloads,
// delivered with X-Gitlab-Token to the real receiver -> Redis/BullMQ -> builder (BuildKit,
// local registry) -> deployer -> gateway (Docker); commit statuses on a GitLab API
// stand-in reached through @gitbeaker/rest. Git hosting: bare repositories on disk, or
// git http-backend requiring basic auth for a private project.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildJobId } from '../../shared/jobs.js';
import type { GitLabStatus } from '../fakes/gitlab-api.js';
import { nodeHandler, stackYml, startGitOpsStack, type GitLabRepo, type GitOpsStack } from '../helpers/gitops-stack.js';
import { deliverGitLab, gitlabPushPayload } from '../helpers/gitlab-payloads.js';
import { waitFor } from '../helpers/wait.js';

const BUILD_MS = 180_000;

describe('GitOps from GitLab, end to end', () => {
  let stack: GitOpsStack;

  before(async () => {
    stack = await startGitOpsStack();
  });
  after(async () => {
    await stack?.stop();
  });

  const statusesFor = (sha: string, name?: string) => stack.gitlab.statuses.filter((s) => s.sha === sha && (name === undefined || s.name === name));
  const describeStatuses = (sha: string) => statusesFor(sha).map((s) => `${s.name} ${s.state}: ${s.description}`).join('\n');
  const settled = (sha: string, timeoutMs = BUILD_MS) =>
    waitFor(
      `the gitfaas status of ${sha.slice(0, 7)} on GitLab to settle`,
      async () => statusesFor(sha, 'gitfaas').find((s) => s.state === 'success' || s.state === 'failed'),
      timeoutMs,
      200,
    );
  const jobsOf = async (sha: string) =>
    (await stack.builds.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed'])).filter((j) => j.data.source.sha === sha);

  async function readLog(status: GitLabStatus): Promise<string> {
    assert.ok(status.targetUrl?.startsWith(`${stack.webhooks.url}/logs/`), `a failed status links to the build log: ${status.targetUrl}`);
    const res = await fetch(status.targetUrl!);
    assert.equal(res.status, 200);
    return res.text();
  }

  describe('a public project', () => {
    let repo: GitLabRepo;
    before(async () => {
      repo = await stack.newGitLabRepo('fns');
    });

    test('a push to the default branch goes pending, running, success on GitLab and the function answers the new code', async () => {
      const sha = await repo.commit({
        'stack.yml': stackYml({ hello: { lang: 'node20', handler: './hello' } }),
        'hello/handler.js': nodeHandler('hello from gitlab v1'),
      });
      const res = await repo.push(sha);
      assert.equal(res.status, 202, res.text);
      const aggregate = await settled(sha);
      assert.equal(aggregate.state, 'success', describeStatuses(sha));
      const states = statusesFor(sha, 'gitfaas').map((s) => s.state);
      assert.deepEqual([states[0], states.includes('running'), states.at(-1)], ['pending', true, 'success'], describeStatuses(sha));
      const fn = statusesFor(sha, 'gitfaas/hello');
      assert.equal(fn.at(-1)!.state, 'success');
      assert.equal(fn.at(-1)!.targetUrl, `${stack.gateway.url}/function/hello.${repo.namespace}`);
      assert.equal(aggregate.projectId, String(repo.project.id));
      assert.equal(aggregate.ref, 'main');
      assert.deepEqual(await stack.call('hello', repo.namespace), { status: 200, text: 'hello from gitlab v1' });

      const next = await repo.commit({ 'hello/handler.js': nodeHandler('hello from gitlab v2') });
      assert.equal((await repo.push(next)).status, 202);
      assert.equal((await settled(next)).state, 'success', describeStatuses(next));
      assert.equal((await stack.call('hello', repo.namespace)).text, 'hello from gitlab v2');
    });

    test('a redelivered Push Hook builds once', async () => {
      const sha = await repo.commit({ 'hello/handler.js': nodeHandler('hello from gitlab v3') });
      const first = await repo.push(sha);
      const again = await repo.push(sha, { uuid: first.uuid });
      assert.deepEqual([first.status, again.status], [202, 202]);
      assert.equal(JSON.parse(first.text).duplicate, false);
      assert.equal(JSON.parse(again.text).duplicate, true);
      assert.equal((await settled(sha)).state, 'success', describeStatuses(sha));
      assert.equal(JSON.parse((await repo.push(sha)).text).duplicate, true, 'a redelivery after the build is the same job');
      const job = await stack.builds.getJob(buildJobId({ scm: 'gitlab', repoId: repo.project.id, sha }, 'push'));
      assert.equal(job?.attemptsMade, 1);
      assert.equal((await jobsOf(sha)).length, 1);
      assert.equal(statusesFor(sha, 'gitfaas').filter((s) => /cloning/.test(s.description ?? '')).length, 1, describeStatuses(sha));
      assert.equal((await stack.call('hello', repo.namespace)).text, 'hello from gitlab v3');
    });

    test('a push to another branch builds nothing; the commit gets a success status saying it is not deployed', async () => {
      const sha = await repo.commit({ 'hello/handler.js': nodeHandler('from a branch') });
      const res = await repo.push(sha, { branch: 'feature/x' });
      assert.equal(res.status, 202, res.text);
      const status = await waitFor('the status that explains the skip', async () => statusesFor(sha, 'gitfaas')[0]);
      assert.equal(status.state, 'success');
      assert.match(status.description!, /feature\/x.*not deployed/);
      assert.equal(status.ref, 'feature/x');
      assert.deepEqual(await jobsOf(sha), []);
      assert.equal((await stack.call('hello', repo.namespace)).text, 'hello from gitlab v3');
    });

    test('a merge request builds, gets statuses, and deploys nothing in production (only previews)', async () => {
      const sha = await repo.commit({
        'stack.yml': stackYml({ hello: { lang: 'node20', handler: './hello' }, 'mr-fn': { lang: 'node20', handler: './mr' } }),
        'mr/handler.js': nodeHandler('from a merge request'),
      });
      const res = await repo.mergeRequest(sha, 'feature/mr');
      assert.equal(res.status, 202, res.text);
      const aggregate = await settled(sha);
      assert.equal(aggregate.state, 'success', describeStatuses(sha));
      assert.match(aggregate.description!, /preview/);
      assert.equal(statusesFor(sha, 'gitfaas/mr-fn').at(-1)?.state, 'success');
      assert.equal(aggregate.ref, undefined, 'a merge request status names no branch ref');
      assert.equal((await stack.call('mr-fn', repo.namespace)).status, 404);
      assert.equal((await stack.call('hello', repo.namespace)).text, 'hello from gitlab v3');
    });

    test('a wrong or missing X-Gitlab-Token gets 401 and nothing is enqueued', async () => {
      const sha = await repo.commit({ 'hello/handler.js': nodeHandler('should not run') });
      const wrong = await repo.push(sha, { token: 'not-the-secret' });
      assert.equal(wrong.status, 401);
      assert.match(wrong.text, /GITLAB_WEBHOOK_SECRET/);
      const missing = await repo.push(sha, { token: null });
      assert.equal(missing.status, 401);
      const prefix = await repo.push(sha, { token: stack.gitlabSecret.slice(0, -1) });
      assert.equal(prefix.status, 401, 'a prefix of the secret is not the secret');
      assert.deepEqual(await jobsOf(sha), []);
      assert.deepEqual(statusesFor(sha), []);
    });

    test('malformed bodies get 400 naming the problem, other hooks 202 ignored', async () => {
      const sha = await repo.commit({ 'hello/handler.js': nodeHandler('should not run either') });
      const url = stack.webhooks.url;
      const malformed = await deliverGitLab(url, 'Push Hook', undefined, stack.gitlabSecret, { body: '{"object_kind": "push",' });
      assert.equal(malformed.status, 400);
      assert.match(malformed.text, /malformed JSON/);
      const payload = gitlabPushPayload(repo.project, sha);
      delete payload.project.git_http_url;
      const missing = await deliverGitLab(url, 'Push Hook', payload, stack.gitlabSecret);
      assert.equal(missing.status, 400);
      assert.match(missing.text, /project\.git_http_url/);
      const issue = await deliverGitLab(url, 'Issue Hook', { object_kind: 'issue' }, stack.gitlabSecret);
      assert.equal(issue.status, 202);
      assert.match(issue.text, /ignored/);
      assert.deepEqual(await jobsOf(sha), []);
    });
  });

  test('a broken stack.yml fails with the reason and a log link that shows it', async () => {
    const repo = await stack.newGitLabRepo('broken');
    const sha = await repo.commit({ 'stack.yml': 'version: 1.0\nfunctions:\n  bad:\n    handler: ./bad\n' });
    assert.equal((await repo.push(sha)).status, 202);
    const aggregate = await settled(sha);
    assert.equal(aggregate.state, 'failed', describeStatuses(sha));
    assert.match(aggregate.description!, /bad\.lang/);
    assert.match(await readLog(aggregate), /functions\.bad\.lang: is required/);
  });

  test('a private project is cloned with GITLAB_TOKEN as oauth2 basic auth', async () => {
    const repo = await stack.newGitLabRepo('secret', { private: true });
    assert.match(repo.project.cloneUrl, /^http:\/\/127\.0\.0\.1:\d+\//);
    const sha = await repo.commit({
      'stack.yml': stackYml({ hidden: { lang: 'node20', handler: './hidden' } }),
      'hidden/handler.js': nodeHandler('private gitlab code'),
    });
    assert.equal((await repo.push(sha)).status, 202);
    const aggregate = await settled(sha);
    assert.equal(aggregate.state, 'success', describeStatuses(sha));
    assert.equal((await stack.call('hidden', repo.namespace)).text, 'private gitlab code');
    for (const s of statusesFor(sha)) assert.ok(!JSON.stringify(s).includes(stack.gitlabToken), 'the token is in no status');
  });
});
