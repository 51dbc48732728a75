// Instant rollback, end to end: two pushes go live and into the deploy history; under
// continuous load an admin rolls the repository back to the first commit through the
// gateway's rolling update, and not one request fails; the answer says which commit is
// live, the newer commit's status says it is no longer live, an admin redeploy of the
// newer build does not undo the rollback, and a new push does.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startGitOpsStack, type GitOpsRepo, type GitOpsStack } from '../helpers/gitops-stack.js';
import { waitFor } from '../helpers/wait.js';

const BUILD_MS = 180_000;

/** Two replicas, so the rolling update always has one answering. */
function stackWith(text: string): Record<string, string> {
  return {
    'stack.yml': [
      'version: 1.0',
      'provider:',
      '  name: openfaas',
      'functions:',
      '  rb:',
      '    lang: node20',
      '    handler: ./rb',
      '    image: example/rb:latest',
      '    labels:',
      '      com.openfaas.scale.min: "2"',
      '',
    ].join('\n'),
    'rb/handler.js': `'use strict';\nmodule.exports = async (event, context) => context.status(200).succeed(${JSON.stringify(text)});\n`,
  };
}

describe('instant rollback', () => {
  let stack: GitOpsStack;
  let repo: GitOpsRepo;
  let fullName: string;

  before(async () => {
    stack = await startGitOpsStack();
    repo = await stack.newRepo('rollback');
    fullName = `${stack.owner}/rollback`;
  });
  after(async () => {
    await stack?.stop();
  });

  const admin: GitOpsStack['admin'] = (...args) => stack.admin(...args);
  const latest = (sha: string, context = 'gitfaas') => stack.github.statusesFor(sha, context).at(-1);
  const live = (sha: string) =>
    waitFor(`${sha.slice(0, 7)} to go live`, async () => (/live/.test(latest(sha)?.description ?? '') && latest(sha)?.state === 'success') || undefined, BUILD_MS, 200);

  let v1 = '';
  let v2 = '';

  test('each deploy goes into the deploy history; the live commit is the newest', async () => {
    v1 = await repo.commit(stackWith('v1'));
    assert.equal((await repo.push(v1)).status, 202);
    await live(v1);
    v2 = await repo.commit(stackWith('v2'));
    assert.equal((await repo.push(v2)).status, 202);
    await live(v2);
    assert.equal((await stack.call('rb')).text, 'v2');
    const res = await admin('GET', `/system/deploys?repository=${encodeURIComponent(fullName)}`);
    assert.equal(res.status, 200, res.text);
    const body = res.json();
    assert.deepEqual(body.live, { rb: v2 });
    assert.deepEqual(body.deploys.map((d: { sha: string }) => d.sha), [v2, v1]);
    assert.match(body.deploys[0].functions[0].image, /@sha256:[0-9a-f]{64}$/);
    assert.equal(body.hold, null);
  });

  test('bad requests are refused precisely, and only with the admin credentials', async () => {
    assert.equal((await admin('POST', '/system/rollback', { repository: fullName }, 'Basic eDp5')).status, 401);
    const unknown = await admin('POST', '/system/rollback', { repository: `${stack.owner}/nope` });
    assert.equal(unknown.status, 404);
    const badSha = await admin('POST', '/system/rollback', { repository: fullName, sha: 'xyz' });
    assert.equal(badSha.status, 400);
    assert.match(badSha.text, /"sha" must be a commit sha/);
    const notDeployed = await admin('POST', '/system/rollback', { repository: fullName, sha: 'f'.repeat(40) });
    assert.equal(notDeployed.status, 404);
    assert.match(notDeployed.text, /not in the deploy history/);
    assert.equal((await stack.call('rb')).text, 'v2', 'nothing changed');
  });

  test('a rollback under continuous load fails no request and says which commit is live', async () => {
    const results: { status: number; text: string; sentAt: number }[] = [];
    let running = true;
    const worker = async () => {
      while (running) {
        const sentAt = Date.now();
        try {
          const res = await fetch(`${stack.gateway.url}/function/rb.${stack.namespace}`);
          results.push({ status: res.status, text: await res.text(), sentAt });
        } catch (err) {
          results.push({ status: 0, text: String((err as Error).cause ?? err), sentAt });
        }
      }
    };
    const workers = Array.from({ length: 6 }, () => worker());
    try {
      await waitFor('load to reach the function', async () => results.length > 50);
      const res = await admin('POST', '/system/rollback', { repository: fullName, sha: v1.slice(0, 7) });
      assert.equal(res.status, 200, res.text);
      const answer = res.json();
      assert.equal(answer.rolledBackTo, v1);
      assert.deepEqual(answer.functions, ['rb']);
      assert.deepEqual(answer.live, { rb: v1 });
      const doneAt = Date.now();
      await waitFor('calls answered by v1 after the rollback', async () => results.filter((r) => r.sentAt > doneAt && r.text === 'v1').length > 50);
      assert.ok(results.filter((r) => r.sentAt > doneAt).every((r) => r.text === 'v1'), 'every call sent after the answer reaches v1');
    } finally {
      running = false;
      await Promise.all(workers);
    }
    const failed = results.filter((r) => r.status !== 200);
    assert.equal(failed.length, 0, `${failed.length} of ${results.length} calls failed: ${JSON.stringify(failed.slice(0, 3))}`);
    assert.ok(results.some((r) => r.text === 'v2') && results.some((r) => r.text === 'v1'));

    // The newer commit is told it is no longer live (commit statuses: success, saying so).
    assert.match(latest(v2)!.description!, new RegExp(`no longer live: rolled back to ${v1.slice(0, 7)}`));
    assert.match(latest(v2, 'gitfaas/rb')!.description!, /no longer live/);
    assert.match(latest(v1)!.description!, new RegExp(`live again: rolled back from ${v2.slice(0, 7)}`));
    const deploys = (await admin('GET', `/system/deploys?repository=${encodeURIComponent(fullName)}`)).json();
    assert.deepEqual(deploys.live, { rb: v1 });
    assert.equal(deploys.hold.sha, v1);
  });

  test('a redeploy of the newer build does not undo the rollback; a new push does', async () => {
    const res = await admin('POST', '/system/builds/redeploy', { repository: fullName });
    assert.equal(res.status, 202, res.text);
    assert.equal(res.json().sha, v2);
    await waitFor(
      'the redeploy to be refused',
      async () => stack.github.statusesFor(v2, 'gitfaas').find((s) => /not deployed: rolled back to/.test(s.description ?? '')),
      60_000,
      200,
    );
    assert.equal((await stack.call('rb')).text, 'v1', 'still rolled back');

    const v3 = await repo.commit(stackWith('v3'));
    assert.equal((await repo.push(v3)).status, 202);
    await live(v3);
    assert.equal((await stack.call('rb')).text, 'v3');
    const deploys = (await admin('GET', `/system/deploys?repository=${encodeURIComponent(fullName)}`)).json();
    assert.deepEqual(deploys.live, { rb: v3 });
    assert.equal(deploys.hold, null);
  });
});
