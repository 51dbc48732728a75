// No push left behind, end to end: a push whose webhook is dropped on purpose (the
// repository's head moves in the served git repository and in the GitHub API stand-in, no
// delivery is sent) is found by the webhooks service's own reconciler (ticking every
// second here) and built and deployed once, by the real builder, deployer and gateway.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DeployHistory } from '../../shared/deploy-history.js';
import { BuildHistory } from '../../shared/build-history.js';
import { buildJobId } from '../../shared/jobs.js';
import { nodeHandler, stackYml, startGitOpsStack, type GitOpsStack } from '../helpers/gitops-stack.js';
import { waitFor } from '../helpers/wait.js';

const BUILD_MS = 180_000;

describe('reconciler, end to end', () => {
  let stack: GitOpsStack;

  before(async () => {
    stack = await startGitOpsStack({ webhooksEnv: { GITFAAS_RECONCILE: 'true', GITFAAS_RECONCILE_INTERVAL: '1s' } });
  });
  after(async () => {
    await stack?.stop();
  });

  const settled = (sha: string) => stack.settled(sha);
  const branchReads = () => stack.github.calls.filter((c) => c.method === 'GET' && c.path.includes('/branches/')).length;

  test('a dropped push delivery is caught by the reconciler, built and deployed once', async () => {
    const repo = await stack.newRepo('recon');
    const fullName = `${repo.payloadRepo.owner}/${repo.payloadRepo.name}`;
    const first = await repo.commit({ 'stack.yml': stackYml({ greet: { lang: 'node20', handler: './greet' } }), 'greet/handler.js': nodeHandler('hello v1') });
    stack.github.setBranch(fullName, 'main', first);
    assert.equal((await repo.push(first)).status, 202);
    assert.equal((await settled(first)).state, 'success');
    assert.equal((await stack.call('greet')).text, 'hello v1');

    // The push happens; its webhook never arrives.
    const missed = await repo.commit({ 'greet/handler.js': nodeHandler('hello v2') });
    stack.github.setBranch(fullName, 'main', missed);
    await waitFor('the missed commit to be live', async () => (await stack.call('greet')).text === 'hello v2', BUILD_MS, 250);
    const status = await settled(missed);
    assert.equal(status.state, 'success', status.description);

    // Several more ticks see the same head: nothing more is built or deployed.
    const reads = branchReads();
    await waitFor('three more reconciler ticks', async () => branchReads() >= reads + 3, 30_000, 100);
    const builds = (await new BuildHistory(stack.redis, stack.prefix).list({ repository: { scm: 'github', repoId: repo.payloadRepo.id }, limit: 100 })).filter((b) => b.sha === missed);
    assert.equal(builds.length, 1, JSON.stringify(builds));
    assert.equal(builds[0]!.state, 'success');
    const deploys = (await new DeployHistory(stack.redis, stack.prefix).list({ scm: 'github', repoId: repo.payloadRepo.id })).filter((d) => d.sha === missed);
    assert.equal(deploys.length, 1);
    const job = await stack.builds.getJob(buildJobId({ scm: 'github', repoId: repo.payloadRepo.id, sha: missed }, 'push'));
    assert.ok(job, 'enqueued under the id the webhook would have had');
  });
});
