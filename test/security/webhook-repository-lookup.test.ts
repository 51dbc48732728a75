// Attack (issue 8 §3): in token mode every repository's webhook shares one secret, so any
// repository owner can sign a payload. Mallory signs one naming alice's repository
// (owner, full name and clone URL all agree, so the receiver cannot tell) with the id of
// mallory's own repository, or an id gitfaas's token cannot see. The builder asks the
// host for the repository by id before cloning and refuses: a failed status naming the
// mismatch, nothing cloned. The same for a GitLab project looked up by id. The legitimate
// flows are the tests in test/gitops/, which run the same lookup for every build.
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { deliverGitLab, gitlabPushPayload } from '../helpers/gitlab-payloads.js';
import { deliverGitHub, pushPayload } from '../helpers/github-payloads.js';
import { startGitOpsStack, stackYml, nodeHandler, type GitOpsStack, type GitOpsRepo } from '../helpers/gitops-stack.js';
import { waitFor } from '../helpers/wait.js';

const run = randomBytes(3).toString('hex');
const [alice, mallory] = [`alice${run}`, `mallory${run}`];
const files = { 'stack.yml': stackYml({ hello: { lang: 'node20', handler: 'hello' } }), 'hello/handler.js': nodeHandler('alice') };

describe('a signed payload naming a repository the host does not confirm', () => {
  let stack: GitOpsStack;
  let alicesRepo: GitOpsRepo;
  let mallorysRepo: GitOpsRepo;

  before(async () => {
    stack = await startGitOpsStack();
    alicesRepo = await stack.newRepo('fns', { owner: alice });
    mallorysRepo = await stack.newRepo('ns', { owner: mallory });
  });
  after(() => stack?.stop());

  /** The failed aggregate status of a GitHub commit, and its build log. */
  async function githubFailure(sha: string): Promise<{ description: string; log: string }> {
    const status = await waitFor(
      'the failed gitfaas status',
      async () => {
        const s = stack.github.latestFor(sha).get('gitfaas');
        return s?.state === 'failure' ? s : undefined;
      },
      120_000,
    );
    const log = await (await fetch(status.targetUrl!)).text();
    return { description: status.description ?? '', log };
  }

  test("alice's names with mallory's repository id: the build fails naming the mismatch; nothing is cloned", async () => {
    const sha = await alicesRepo.commit(files);
    const forged = { ...alicesRepo.payloadRepo, id: mallorysRepo.payloadRepo.id };
    const res = await deliverGitHub(stack.webhooks.url, 'push', pushPayload(forged, sha), stack.secret);
    assert.equal(res.status, 202, 'the receiver cannot know without asking GitHub');
    const { description, log } = await githubFailure(sha);
    assert.match(description, new RegExp(`event names ${alice}/fns .*but GitHub repository ${forged.id} is ${mallory}/ns`));
    assert.doesNotMatch(log, /cloning/);
  });

  test('a repository id the token cannot see: refused, naming it', async () => {
    const sha = await alicesRepo.commit({ 'README.md': `${run}\n` });
    const unknown = randomInt(2 ** 31, 2 ** 32);
    const res = await deliverGitHub(stack.webhooks.url, 'push', pushPayload({ ...alicesRepo.payloadRepo, id: unknown }, sha), stack.secret);
    assert.equal(res.status, 202);
    const { description, log } = await githubFailure(sha);
    assert.match(description, new RegExp(`GitHub repository ${unknown} \\(${alice}/fns\\) is not visible through GITHUB_TOKEN`));
    assert.doesNotMatch(log, /cloning/);
  });

  test("GitLab: alice's project path with mallory's project id is refused", async () => {
    const alicesProject = await stack.newGitLabRepo('fns', { owner: alice });
    const mallorysProject = await stack.newGitLabRepo('ns', { owner: mallory });
    const sha = await alicesProject.commit(files);
    const forged = { ...alicesProject.project, id: mallorysProject.project.id };
    const res = await deliverGitLab(stack.webhooks.url, 'Push Hook', gitlabPushPayload(forged, sha), stack.gitlabSecret);
    assert.equal(res.status, 202, res.text);
    const status = await waitFor(
      'the failed GitLab status',
      async () => {
        const s = stack.gitlab.latestFor(sha).get('gitfaas');
        return s?.state === 'failed' ? s : undefined;
      },
      120_000,
    );
    assert.match(status.description ?? '', new RegExp(`event names ${alice}/fns .*but GitLab repository ${forged.id} is ${mallory}/ns`));
  });
});

describe('as a GitHub App: a repository outside the event\'s installation', () => {
  let stack: GitOpsStack;
  after(() => stack?.stop());

  test("an event of one installation naming another installation's repository is refused", async () => {
    stack = await startGitOpsStack({ app: true });
    const repo = await stack.newRepo('fns', { owner: alice });
    const sha = await repo.commit(files);
    // The same repository, as GitHub knows it, belongs to another installation of the App.
    stack.github.addRepository({ id: repo.payloadRepo.id, owner: alice, name: 'fns', private: true, installationId: 999 });
    const res = await deliverGitHub(stack.webhooks.url, 'push', pushPayload(repo.payloadRepo, sha), stack.secret);
    assert.equal(res.status, 202, res.text);
    const run = await waitFor(
      'the failed gitfaas check run',
      async () => {
        const s = stack.github.latestFor(sha).get('gitfaas');
        return s?.state === 'failure' ? s : undefined;
      },
      120_000,
    );
    assert.match(run.description ?? '', new RegExp(`GitHub repository ${repo.payloadRepo.id} \\(${alice}/fns\\) is not visible through the App installation \\d+`));
  });
});
