// End to end, everything real but GitHub's REST API (a stand-in on 127.0.0.1) and git
// hosting (bare repositories on disk as the payload's clone URL): signed, real captured
// GitHub payloads -> receiver -> Redis/BullMQ -> builder (BuildKit, local registry) ->
// deployer -> gateway (Docker) -> the function answers.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { buildJobId } from '../../shared/jobs.js';
import type { CommitStatus } from '../fakes/github-api.js';
import { nodeHandler, stackYml, startGitOpsStack, type GitOpsRepo, type GitOpsStack } from '../helpers/gitops-stack.js';
import { waitFor } from '../helpers/wait.js';

const BUILD_MS = 180_000;

describe('GitOps from GitHub, end to end', () => {
  let stack: GitOpsStack;

  before(async () => {
    stack = await startGitOpsStack();
  });
  after(async () => {
    await stack?.stop();
  });

  /** The final aggregate status of a commit (success or failure). */
  const settled = (sha: string, timeoutMs = BUILD_MS) =>
    waitFor(
      `the gitfaas status of ${sha.slice(0, 7)} to settle`,
      async () => stack.github.statusesFor(sha, 'gitfaas').find((s) => s.state === 'success' || s.state === 'failure'),
      timeoutMs,
      200,
    );

  const describeStatuses = (sha: string) =>
    stack.github
      .statusesFor(sha)
      .map((s) => `${s.context} ${s.state}: ${s.description}`)
      .join('\n');

  async function readLog(status: CommitStatus): Promise<string> {
    assert.ok(status.target_url, 'a failed status links to the build log');
    assert.ok(status.target_url.startsWith(stack.webhooks.url), status.target_url);
    const res = await fetch(status.target_url);
    assert.equal(res.status, 200);
    return res.text();
  }

  describe('a repository with node20 functions', () => {
    let repo: GitOpsRepo;
    before(async () => {
      repo = await stack.newRepo('fns');
    });

    test('a signed push gives pending then success statuses, and the function answers with the new code', async () => {
      const sha = await repo.commit({
        'stack.yml': stackYml({ greet: { lang: 'node20', handler: './greet' }, extra: { lang: 'node20', handler: './extra' } }),
        'greet/handler.js': nodeHandler('hello v1'),
        'extra/handler.js': nodeHandler('extra v1'),
      });
      const res = await repo.push(sha);
      assert.equal(res.status, 202, res.text);
      const aggregate = await settled(sha);
      assert.equal(aggregate.state, 'success', describeStatuses(sha));
      const states = stack.github.statusesFor(sha, 'gitfaas').map((s) => s.state);
      assert.equal(states[0], 'pending');
      assert.equal(states.at(-1), 'success');
      const greet = stack.github.statusesFor(sha, 'gitfaas/greet');
      assert.equal(greet[0].state, 'pending');
      assert.equal(greet.at(-1)!.state, 'success');
      assert.equal(greet.at(-1)!.target_url, `${stack.gateway.url}/function/greet.${stack.namespace}`);
      const answer = await stack.call('greet');
      assert.deepEqual(answer, { status: 200, text: 'hello v1' });
      assert.equal((await stack.call('extra')).text, 'extra v1');
    });

    test('a second push serves the new code with no failed request during the switch', async () => {
      const sha = await repo.commit({ 'greet/handler.js': nodeHandler('hello v2') });
      let stop = false;
      const seen = new Map<string, number>();
      const failures: string[] = [];
      const load = (async () => {
        while (!stop) {
          const r = await stack.call('greet').catch((err: Error) => ({ status: 0, text: err.message }));
          if (r.status !== 200) failures.push(`${r.status} ${r.text.slice(0, 100)}`);
          else seen.set(r.text, (seen.get(r.text) ?? 0) + 1);
        }
      })();
      try {
        assert.equal((await repo.push(sha)).status, 202);
        const aggregate = await settled(sha);
        assert.equal(aggregate.state, 'success', describeStatuses(sha));
        assert.equal((await stack.call('greet')).text, 'hello v2');
      } finally {
        stop = true;
        await load;
      }
      assert.deepEqual(failures, [], 'no request failed during the switch');
      assert.ok((seen.get('hello v1') ?? 0) > 0 && (seen.get('hello v2') ?? 0) > 0, `served both versions: ${[...seen.entries()]}`);
    });

    test('a push that removes a function removes it', async () => {
      const sha = await repo.commit({
        'stack.yml': stackYml({ greet: { lang: 'node20', handler: './greet' } }),
        'extra/handler.js': null,
      });
      assert.equal((await repo.push(sha)).status, 202);
      const aggregate = await settled(sha);
      assert.equal(aggregate.state, 'success', describeStatuses(sha));
      assert.match(aggregate.description!, /removed extra/);
      assert.equal((await stack.call('extra')).status, 404);
      assert.equal((await stack.call('greet')).text, 'hello v2');
    });

    test('a redelivered webhook builds once', async () => {
      const sha = await repo.commit({ 'greet/handler.js': nodeHandler('hello v3') });
      const first = await repo.push(sha);
      const again = await repo.push(sha, { deliveryId: first.deliveryId });
      assert.equal(first.status, 202);
      assert.equal(again.status, 202);
      assert.equal(JSON.parse(again.text).duplicate, true);
      assert.equal((await settled(sha)).state, 'success', describeStatuses(sha));
      // A redelivery after the build finished is still the same job.
      const late = await repo.push(sha);
      assert.equal(JSON.parse(late.text).duplicate, true);
      const job = await stack.builds.getJob(buildJobId({ scm: 'github', repoId: repo.payloadRepo.id, sha }, 'push'));
      assert.ok(job?.finishedOn, 'the one build job finished');
      assert.equal(job.attemptsMade, 1);
      const cloning = stack.github.statusesFor(sha, 'gitfaas').filter((s) => /cloning/.test(s.description ?? ''));
      assert.equal(cloning.length, 1, `one build started:\n${describeStatuses(sha)}`);
      assert.equal((await stack.call('greet')).text, 'hello v3');
    });

    test('two quick pushes end with the newer commit deployed', async () => {
      const older = await repo.commit({ 'greet/handler.js': nodeHandler('hello older') });
      const newer = await repo.commit({ 'greet/handler.js': nodeHandler('hello newer') });
      const a = await repo.push(older);
      const b = await repo.push(newer);
      assert.equal(a.status, 202);
      assert.equal(b.status, 202);
      assert.ok(JSON.parse(a.text).seq < JSON.parse(b.text).seq);
      const newerStatus = await settled(newer);
      assert.equal(newerStatus.state, 'success', describeStatuses(newer));
      const olderStatus = await settled(older);
      // The older one either went live before the newer arrived or was superseded by it.
      // Superseded is never a failure; its description names what replaced it.
      assert.equal(olderStatus.state, 'success', describeStatuses(older));
      if (!/live/.test(olderStatus.description!)) assert.match(olderStatus.description!, /superseded|newer commit/, describeStatuses(older));
      // Whatever the older one did, it did before it settled: the newer code stays live.
      assert.equal((await stack.call('greet')).text, 'hello newer');
    });
  });

  test('a pull request gets status checks and deploys nothing in production (only a preview)', async () => {
    const repo = await stack.newRepo('pr');
    const sha = await repo.commit({
      'stack.yml': stackYml({ 'pr-fn': { lang: 'node20', handler: './pr-fn' } }),
      'pr-fn/handler.js': nodeHandler('from a pull request'),
    });
    const res = await repo.pullRequest(sha, 'main');
    assert.equal(res.status, 202, res.text);
    const aggregate = await settled(sha);
    assert.equal(aggregate.state, 'success', describeStatuses(sha));
    assert.match(aggregate.description!, /preview/);
    const fn = stack.github.statusesFor(sha, 'gitfaas/pr-fn');
    assert.equal(fn.at(-1)?.state, 'success');
    assert.equal((await stack.call('pr-fn')).status, 404);
  });

  test('a broken stack.yml fails with the reason and a log link that shows it', async () => {
    const repo = await stack.newRepo('broken');
    const sha = await repo.commit({ 'stack.yml': 'version: 1.0\nfunctions:\n  bad:\n    handler: ./bad\n    memory_limit: 1Gi\n' });
    assert.equal((await repo.push(sha)).status, 202);
    const aggregate = await settled(sha);
    assert.equal(aggregate.state, 'failure');
    assert.match(aggregate.description!, /bad/);
    assert.match(aggregate.description!, /lang/);
    const log = await readLog(aggregate);
    assert.match(log, /lang/);
  });

  test('an unknown lang fails naming it and the available templates', async () => {
    const repo = await stack.newRepo('lang');
    const sha = await repo.commit({
      'stack.yml': stackYml({ cobol: { lang: 'cobol85', handler: './cobol' } }),
      'cobol/handler.cob': 'DISPLAY "HI".\n',
    });
    assert.equal((await repo.push(sha)).status, 202);
    const aggregate = await settled(sha);
    assert.equal(aggregate.state, 'failure');
    const all = describeStatuses(sha);
    assert.match(all, /cobol85/);
    assert.match(all, /node20/);
    const log = await readLog(aggregate);
    assert.match(log, /cobol85/);
  });

  test('a build error fails with the reason and a log link that shows the error', async () => {
    const repo = await stack.newRepo('builderr');
    const marker = `compile-error-${randomBytes(4).toString('hex')}`;
    const sha = await repo.commit({
      'stack.yml': stackYml({ boom: { lang: 'dockerfile', handler: './boom' } }),
      'boom/Dockerfile': `FROM 127.0.0.1:5000/gitfaas/debian:bookworm\nRUN echo ${marker} && exit 3\n`,
    });
    assert.equal((await repo.push(sha)).status, 202);
    const aggregate = await settled(sha);
    assert.equal(aggregate.state, 'failure', describeStatuses(sha));
    const boom = stack.github.statusesFor(sha, 'gitfaas/boom').at(-1)!;
    assert.equal(boom.state, 'failure');
    const log = await readLog(boom);
    assert.match(log, new RegExp(marker));
    assert.equal((await stack.call('boom')).status, 404);
  });

  test('a bad signature gets 401 and nothing is built', async () => {
    const repo = await stack.newRepo('unsigned');
    const sha = await repo.commit({
      'stack.yml': stackYml({ nope: { lang: 'node20', handler: './nope' } }),
      'nope/handler.js': nodeHandler('should not run'),
    });
    const res = await repo.push(sha, { secret: 'wrong-secret' });
    assert.equal(res.status, 401);
    const job = await stack.builds.getJob(buildJobId({ scm: 'github', repoId: repo.payloadRepo.id, sha }, 'push'));
    assert.equal(job, undefined, 'no build job stored');
    assert.equal((await stack.builds.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed'])).filter((j) => j.data.source.sha === sha).length, 0);
    assert.deepEqual(stack.github.statusesFor(sha), []);
  });
});
