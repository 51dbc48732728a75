// End to end as a GitHub App: statuses are check runs (one per context, updated in place),
// private repositories are cloned with the installation's token, and installation tokens
// are minted once per service and reused.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { CheckRun } from '../fakes/github-api.js';
import { INSTALLATION_ID, nodeHandler, stackYml, startGitOpsStack, type GitOpsStack } from '../helpers/gitops-stack.js';
import { waitFor } from '../helpers/wait.js';

describe('GitOps from GitHub as a GitHub App', () => {
  let stack: GitOpsStack;
  before(async () => {
    stack = await startGitOpsStack({ app: true });
  });
  after(async () => {
    await stack?.stop();
  });

  const runsFor = (sha: string) => [...stack.github.checkRuns.values()].filter((r) => r.head_sha === sha);
  const settled = (sha: string) =>
    waitFor(
      `the gitfaas check run of ${sha.slice(0, 7)} to complete`,
      async () => runsFor(sha).find((r) => r.name === 'gitfaas' && r.status === 'completed'),
      180_000,
      200,
    );
  const show = (runs: CheckRun[]) => runs.map((r) => `${r.name}: ${r.history.map((h) => `${h.status}/${h.conclusion ?? ''} ${h.title ?? ''}`).join(' -> ')}`).join('\n');

  test('a push to a private repository: one check run per context, updated in place, then live', async () => {
    const repo = await stack.newRepo('app');
    const sha = await repo.commit({
      'stack.yml': stackYml({ 'app-fn': { lang: 'node20', handler: './app-fn' } }),
      'app-fn/handler.js': nodeHandler('hello from an App'),
    });
    const res = await repo.push(sha);
    assert.equal(res.status, 202, res.text);
    const aggregate = await settled(sha);
    assert.equal(aggregate.conclusion, 'success', show(runsFor(sha)));
    const runs = runsFor(sha);
    assert.deepEqual(runs.map((r) => r.name).sort(), ['gitfaas', 'gitfaas/app-fn'], 'exactly one check run per context');
    for (const run of runs) {
      assert.notEqual(run.history[0].status, 'completed', `${run.name} started open`);
      assert.ok(run.history.length >= 2, `${run.name} was updated in place:\n${show(runs)}`);
    }
    const aggregateRun = runs.find((r) => r.name === 'gitfaas')!;
    assert.equal(aggregateRun.history[0].status, 'queued', 'the build starts queued (pending)');
    assert.ok(aggregateRun.history.some((h) => h.status === 'in_progress'), `building and deploying show in_progress:\n${show(runs)}`);
    const fn = runs.find((r) => r.name === 'gitfaas/app-fn')!;
    assert.equal(fn.conclusion, 'success');
    assert.equal(fn.details_url, `${stack.gateway.url}/function/app-fn.${stack.namespace}`);
    assert.match(fn.output?.summary ?? '', /\| deploy \|/, 'the output holds the stage times');
    assert.equal((await stack.call('app-fn')).text, 'hello from an App');
    // Every API call used an installation token of the event's installation; each service's
    // client minted one and reused it.
    const mints = stack.github.calls.filter((c) => c.path === `/app/installations/${INSTALLATION_ID}/access_tokens`);
    assert.ok(mints.length >= 1 && mints.length <= 3, `${mints.length} installation tokens minted`);
    assert.ok(stack.github.calls.filter((c) => c.path.includes('/check-runs')).every((c) => stack.github.installationTokens.some((t) => c.auth === `token ${t}`)));
  });

  test('a failed build completes its check runs with failure and the problems in the output', async () => {
    const repo = await stack.newRepo('appfail');
    const sha = await repo.commit({ 'stack.yml': stackYml({ nope: { lang: 'rust-nightly', handler: './nope' } }), 'nope/x': 'x' });
    assert.equal((await repo.push(sha)).status, 202);
    const aggregate = await settled(sha);
    assert.equal(aggregate.conclusion, 'failure');
    assert.match(`${aggregate.output?.title} ${aggregate.output?.summary}`, /rust-nightly/);
    assert.ok(aggregate.details_url?.startsWith(`${stack.webhooks.url}/logs/`), aggregate.details_url);
    assert.match(aggregate.output?.text ?? '', /(Build log \(last lines|Last lines of the build log)[\s\S]*rust-nightly/);
    assert.equal(runsFor(sha).filter((r) => r.name === 'gitfaas').length, 1);
  });
});
