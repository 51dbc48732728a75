// Merge request previews from GitLab, end to end: GitLab's documented Merge Request Hook
// (open, update with a new commit, close) -> builder -> deployer -> gateway (Docker), and
// one sticky MR note on the GitLab API stand-in written through @gitbeaker/rest.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PREVIEW_MARKER } from '../../services/deployer/preview-comment.js';
import { nodeHandler, stackYml, startGitOpsStack, type GitLabRepo, type GitOpsStack } from '../helpers/gitops-stack.js';
import { deliverGitLab, gitlabMergeRequestPayload } from '../helpers/gitlab-payloads.js';
import { waitFor } from '../helpers/wait.js';

const BUILD_MS = 240_000;

describe('merge request previews (GitLab)', () => {
  let stack: GitOpsStack;

  before(async () => {
    stack = await startGitOpsStack();
  });
  after(async () => {
    await stack?.deployer.stop();
    await stack?.stop();
  });

  function deliverMr(repo: GitLabRepo, iid: number, sha: string, action: 'open' | 'update' | 'close' | 'merge', oldrev?: string) {
    const payload = gitlabMergeRequestPayload(repo.project, sha, 'feature/preview', action);
    const attrs = payload.object_attributes;
    attrs.iid = iid;
    if (action === 'close') attrs.state = 'closed';
    if (action === 'merge') attrs.state = 'merged';
    if (oldrev) attrs.oldrev = oldrev;
    else delete attrs.oldrev;
    return deliverGitLab(stack.webhooks.url, 'Merge Request Hook', payload, stack.gitlabSecret);
  }
  const statusesFor = (sha: string, name?: string) => stack.gitlab.statuses.filter((s) => s.sha === sha && (name === undefined || s.name === name));
  const describeStatuses = (sha: string) => statusesFor(sha).map((s) => `${s.name} ${s.state}: ${s.description}`).join('\n');
  const settled = (sha: string) =>
    waitFor(`the gitfaas status of ${sha.slice(0, 7)} to settle`, async () => statusesFor(sha, 'gitfaas').find((s) => s.state === 'success' || s.state === 'failed'), BUILD_MS, 250);
  const sticky = (repo: GitLabRepo, iid: number) => stack.gitlab.notes.on(repo.project.id, iid).filter((n) => n.body.includes(PREVIEW_MARKER));
  const answers = (repo: GitLabRepo, fn: string, text: string) =>
    waitFor(`${fn} to answer "${text}"`, async () => ((await stack.call(fn, repo.namespace)).text === text ? true : undefined), 60_000, 250);

  test('opened, updated, closed: the preview follows and one MR note is edited in place', async () => {
    const repo = await stack.newGitLabRepo('mr-previews');
    stack.gitlab.notes.addMergeRequest(repo.project.id, 3);
    // A page and more of other notes (GitLab pages 20 by default, 100 at most).
    for (let i = 0; i < 25; i++) stack.gitlab.notes.addNote(repo.project.id, 3, `review note ${i}`);
    const files = (text: string) => ({ 'stack.yml': stackYml({ site: { lang: 'node20', handler: './site' } }), 'site/handler.js': nodeHandler(text) });

    const sha1 = await repo.commit(files('mr v1'));
    assert.equal((await deliverMr(repo, 3, sha1, 'open')).status, 202);
    const first = await settled(sha1);
    assert.equal(first.state, 'success', describeStatuses(sha1));
    await answers(repo, 'site-pr3', 'mr v1');
    assert.equal((await stack.call('site', repo.namespace)).status, 404, 'a preview is never production');
    assert.equal(sticky(repo, 3).length, 1);
    assert.match(sticky(repo, 3)[0]!.body, /site-pr3.*\| live/);

    const sha2 = await repo.commit(files('mr v2'));
    assert.equal((await deliverMr(repo, 3, sha2, 'update', sha1)).status, 202);
    assert.equal((await settled(sha2)).state, 'success', describeStatuses(sha2));
    await answers(repo, 'site-pr3', 'mr v2');
    const notes = sticky(repo, 3);
    assert.equal(notes.length, 1, 'never a second note');
    assert.match(notes[0]!.body, new RegExp(`Commit ${sha2.slice(0, 7)}`));
    assert.ok(notes[0]!.edits.length >= 3, `edited in place: ${notes[0]!.edits.length} versions`);

    assert.equal((await deliverMr(repo, 3, sha2, 'merge')).status, 202);
    await waitFor('the preview to be removed', async () => ((await stack.call('site-pr3', repo.namespace)).status === 404 ? true : undefined), 60_000, 250);
    await waitFor('the note to say so', async () => (/Previews removed: the pull request was merged/.test(sticky(repo, 3)[0]!.body) ? true : undefined), 30_000, 250);
  });
});
