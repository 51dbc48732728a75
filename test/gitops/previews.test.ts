// Pull request previews, end to end with GitHub's API stand-in (its issue comments too),
// real git repositories, BuildKit, the registry and the Docker gateway: a pull request
// opened gets `<fn>-pr<n>` and one sticky comment; pushes edit that comment and update
// the preview; a production push leaves previews alone; closing removes them; a fork's
// pull request is built only; a preview without pushes for GITFAAS_PREVIEW_TTL is swept.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { PreviewStore } from '../../services/deployer/preview-store.js';
import { PREVIEW_MARKER } from '../../services/deployer/preview-comment.js';
import { nodeHandler, stackYml, startGitOpsStack, type GitOpsRepo, type GitOpsStack } from '../helpers/gitops-stack.js';
import { deliverGitHub, pullRequestPayload } from '../helpers/github-payloads.js';
import { waitFor } from '../helpers/wait.js';

const BUILD_MS = 240_000;

describe('pull request previews (GitHub)', () => {
  let stack: GitOpsStack;

  before(async () => {
    // A small preview allowance, so the last test can go over it with three functions.
    stack = await startGitOpsStack({ env: { GITFAAS_PREVIEW_SWEEP_INTERVAL: '1s', GITFAAS_QUOTA_PREVIEW_FUNCTIONS: '2' } });
  });
  after(async () => {
    // The deployer first: its sweep scheduler must not recreate keys after the clean-up.
    await stack?.deployer.stop();
    await stack?.stop();
  });

  const fullName = (repo: GitOpsRepo) => `${repo.payloadRepo.owner}/${repo.payloadRepo.name}`;

  /** GitHub's pull_request event `action` for PR `number` whose head is `sha` (of `head`, a fork, if given). */
  function deliverPr(repo: GitOpsRepo, number: number, sha: string, action: string, opts: { head?: GitOpsRepo; merged?: boolean } = {}) {
    const payload = pullRequestPayload(repo.payloadRepo, sha, 'main', action);
    payload.number = number;
    payload.pull_request.number = number;
    payload.pull_request.merged = opts.merged ?? false;
    if (opts.head) {
      const h = opts.head.payloadRepo;
      Object.assign(payload.pull_request.head.repo, { id: h.id, name: h.name, full_name: `${h.owner}/${h.name}`, clone_url: h.cloneUrl });
      payload.pull_request.head.repo.owner.login = h.owner;
    }
    return deliverGitHub(stack.webhooks.url, 'pull_request', payload, stack.secret);
  }

  const settled = (sha: string) =>
    waitFor(`the gitfaas status of ${sha.slice(0, 7)} to settle`, async () => stack.github.statusesFor(sha, 'gitfaas').find((s) => s.state === 'success' || s.state === 'failure'), BUILD_MS, 250);
  const statuses = (sha: string) => stack.github.statusesFor(sha).map((s) => `${s.context} ${s.state}: ${s.description}`).join('\n');
  const stickies = (repo: GitOpsRepo, n: number) => stack.github.comments.on(fullName(repo), n).filter((c) => c.body.includes(PREVIEW_MARKER));
  const answers = (fn: string, text: string) =>
    waitFor(`${fn} to answer "${text}"`, async () => ((await stack.call(fn)).text === text ? true : undefined), 60_000, 250);

  test('opened, pushed twice, production push beside it, closed: one comment edited in place', async () => {
    const repo = await stack.newRepo('previews');
    stack.github.comments.addPullRequest(fullName(repo), 5);
    // More than a page of other comments: the sticky one is found again past page one.
    for (let i = 0; i < 101; i++) stack.github.comments.addComment(fullName(repo), 5, `review remark ${i}`);
    const files = (text: string) => ({ 'stack.yml': stackYml({ web: { lang: 'node20', handler: './web' } }), 'web/handler.js': nodeHandler(text) });

    const sha1 = await repo.commit(files('preview v1'));
    assert.equal((await deliverPr(repo, 5, sha1, 'opened')).status, 202);
    const first = await settled(sha1);
    assert.equal(first.state, 'success', statuses(sha1));
    assert.match(first.description!, /1 preview\(s\) live/);
    await answers('web-pr5', 'preview v1');
    assert.equal((await stack.call('web')).status, 404, 'a preview is never production');
    const fnStatus = stack.github.statusesFor(sha1, 'gitfaas/web').at(-1)!;
    assert.equal(fnStatus.target_url, `${stack.gateway.url}/function/web-pr5.${stack.namespace}`);
    let sticky = stickies(repo, 5);
    assert.equal(sticky.length, 1);
    assert.match(sticky[0]!.body, new RegExp(`\\[web-pr5\\]\\(${stack.gateway.url.replace(/[.]/g, '\\.')}/function/web-pr5\\.${stack.namespace}\\) \\| live`));
    assert.match(sticky[0]!.body, new RegExp(`Commit ${sha1.slice(0, 7)}`));

    for (const text of ['preview v2', 'preview v3']) {
      const sha = await repo.commit(files(text));
      assert.equal((await deliverPr(repo, 5, sha, 'synchronize')).status, 202);
      assert.equal((await settled(sha)).state, 'success', statuses(sha));
      await answers('web-pr5', text);
      sticky = stickies(repo, 5);
      assert.equal(sticky.length, 1, 'never a second comment');
      assert.match(sticky[0]!.body, new RegExp(`Commit ${sha.slice(0, 7)}`));
    }
    assert.ok(sticky[0]!.edits.length >= 3, `edited on each push: ${sticky[0]!.edits.length} versions`);
    assert.equal(stack.github.comments.on(fullName(repo), 5).length, 102);

    // Production deploys of the same repository neither replace nor collect the preview.
    const prod = await repo.commit(files('production'));
    assert.equal((await repo.push(prod)).status, 202);
    assert.equal((await settled(prod)).state, 'success', statuses(prod));
    assert.equal((await stack.call('web')).text, 'production');
    assert.equal((await stack.call('web-pr5')).text, 'preview v3');

    assert.equal((await deliverPr(repo, 5, sha1, 'closed')).status, 202);
    await waitFor('the preview to be removed', async () => ((await stack.call('web-pr5')).status === 404 ? true : undefined), 60_000, 250);
    await waitFor('the comment to say so', async () => (/Previews removed: the pull request was closed/.test(stickies(repo, 5)[0]!.body) ? true : undefined), 30_000, 250);
    assert.equal(stickies(repo, 5).length, 1);
    assert.equal((await stack.call('web')).text, 'production', 'closing a pull request leaves production alone');
  });

  test("a fork's pull request is built with statuses but gets no preview", async () => {
    const repo = await stack.newRepo('forked');
    const fork = await stack.newRepo('forked', { owner: `Forker${randomBytes(3).toString('hex')}` });
    stack.github.comments.addPullRequest(fullName(repo), 6);
    const sha = await fork.commit({ 'stack.yml': stackYml({ api: { lang: 'node20', handler: './api' } }), 'api/handler.js': nodeHandler('from a fork') });
    assert.equal((await deliverPr(repo, 6, sha, 'opened', { head: fork })).status, 202);
    const status = await settled(sha);
    assert.equal(status.state, 'success', statuses(sha));
    assert.match(status.description!, /fork: no preview/);
    assert.equal(stack.github.statusesFor(sha, 'gitfaas/api').at(-1)?.state, 'success');
    assert.equal((await stack.call('api-pr6')).status, 404);
    assert.equal(stickies(repo, 6).length, 0);
  });

  test('a preview without pushes for GITFAAS_PREVIEW_TTL is swept, and the comment says so', async () => {
    const repo = await stack.newRepo('idle');
    stack.github.comments.addPullRequest(fullName(repo), 7);
    const sha = await repo.commit({ 'stack.yml': stackYml({ idle: { lang: 'node20', handler: './idle' } }), 'idle/handler.js': nodeHandler('idle preview') });
    assert.equal((await deliverPr(repo, 7, sha, 'opened')).status, 202);
    assert.equal((await settled(sha)).state, 'success', statuses(sha));
    await answers('idle-pr7', 'idle preview');
    // Its last push is now eight days old (the default lifetime is seven).
    await new PreviewStore(stack.redis, stack.prefix).setLastPush({ scm: 'github', repoId: repo.payloadRepo.id, pullRequest: 7 }, Date.now() - 8 * 24 * 3600_000);
    await waitFor('the idle preview to be swept', async () => ((await stack.call('idle-pr7')).status === 404 ? true : undefined), 60_000, 250);
    await waitFor('the comment to say why', async () => (/no push for the preview lifetime/.test(stickies(repo, 7)[0]?.body ?? '') ? true : undefined), 30_000, 250);
  });

  test('a pull request over the preview allowance fails with the quota named, and deploys nothing', async () => {
    const repo = await stack.newRepo('many');
    stack.github.comments.addPullRequest(fullName(repo), 8);
    const sha = await repo.commit({
      'stack.yml': stackYml({ one: { lang: 'node20', handler: './one' }, two: { lang: 'node20', handler: './two' }, three: { lang: 'node20', handler: './three' } }),
      'one/handler.js': nodeHandler('1'),
      'two/handler.js': nodeHandler('2'),
      'three/handler.js': nodeHandler('3'),
    });
    assert.equal((await deliverPr(repo, 8, sha, 'opened')).status, 202);
    const status = await settled(sha);
    assert.equal(status.state, 'failure', statuses(sha));
    assert.match(status.description!, /quota previewFunctions: .* would run 3 preview functions, the quota is 2/);
    assert.equal(stack.github.statusesFor(sha, 'gitfaas/two').at(-1)?.state, 'failure');
    for (const fn of ['one-pr8', 'two-pr8', 'three-pr8']) assert.equal((await stack.call(fn)).status, 404);
    assert.match(stickies(repo, 8)[0]?.body ?? '', /No preview for .*GITFAAS_QUOTA_PREVIEW_FUNCTIONS/);
  });
});
