// The dashboard's repositories and builds in a real browser against the whole GitOps path
// (webhooks, builder with BuildKit, deployer, gateway): a push appears, its log streams
// while it runs and its state turns to success; a failing push shows its reason at the top;
// an owner sees their own builds and gets 404 for another owner's.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Sessions, SESSION_COOKIE } from '../../services/dashboard/session.js';
import { startBrowser, type TestBrowser } from '../helpers/browser.js';
import { nodeHandler, stackYml, startGitOpsStack, type GitOpsRepo, type GitOpsStack } from '../helpers/gitops-stack.js';
import { waitFor } from '../helpers/wait.js';

const SECRET = randomBytes(32).toString('base64url');
const BUILD_MS = 180_000;

describe('dashboard builds in a browser', { timeout: 600_000 }, () => {
  let stack: GitOpsStack;
  let repo: GitOpsRepo;
  let browser: TestBrowser;
  const sessions = new Sessions(SECRET, 600_000);
  const signInAs = async (who: { user: string; role: 'admin' | 'owner'; namespace?: string }) => {
    const value = sessions.encode({ id: randomBytes(8).toString('hex'), ...who, exp: Date.now() + 600_000 });
    await browser.context.addCookies([{ name: SESSION_COOKIE, value, domain: '127.0.0.1', path: '/ui', httpOnly: true, sameSite: 'Strict' }]);
    return { cookie: `${SESSION_COOKIE}=${value}` };
  };
  const open = async (hash: string) => {
    await browser.page.goto(`${stack.gateway.url}/ui/${hash}`);
    await browser.page.reload();
  };

  before(async () => {
    stack = await startGitOpsStack({ gatewayEnv: { GITFAAS_DASHBOARD_SESSION_SECRET: SECRET } });
    repo = await stack.newRepo('dash');
    browser = await startBrowser();
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('shows a push as a build, streams its log while it runs, and turns to success', async () => {
    const { page } = browser;
    await signInAs({ user: 'admin', role: 'admin' });
    const sha = await repo.commit({ 'stack.yml': stackYml({ dash: { lang: 'node20', handler: './dash' } }), 'dash/handler.js': nodeHandler('dashboard v1') });
    const res = await repo.push(sha);
    assert.equal(res.status, 202, res.text);
    const { buildId } = JSON.parse(res.text) as { buildId: string };

    // Straight to the build's page while it runs; note the build's state as each log line arrives.
    await open(`#/build/${buildId}`);
    await page.waitForSelector('#build-state');
    await page.evaluate(() => {
      const seen: string[] = ((window as unknown as { seenStates: string[] }).seenStates = []);
      new MutationObserver(() => seen.push(document.getElementById('build-state')?.textContent ?? '')).observe(document.getElementById('build-log')!, { childList: true });
    });
    await waitFor('the build to succeed on the page', async () => (await page.innerText('#build-state')) === 'success', BUILD_MS, 250);
    const log = await page.innerText('#build-log');
    assert.match(log, /\[dash\] live at /);
    assert.match(log.trimEnd().split('\n').at(-1)!, /deploy deployed/);
    assert.match(await page.innerText('#build-stages'), /clone [\d.]+s · build [\d.]+s · push [\d.]+s · deploy [\d.]+s/);
    assert.match(await page.innerText('#build-functions'), /dash\s+live/);
    const seen = await page.evaluate(() => (window as unknown as { seenStates: string[] }).seenStates);
    assert.ok(seen.some((state) => ['queued', 'building', 'deploying'].includes(state)), `log lines arrived while the build ran: ${seen.join(',')}`);
    await browser.screenshot('build-success');

    await open('#/builds');
    await page.waitForSelector(`tr[data-build="${buildId}"] .state-success`);
    assert.match(await page.innerText(`tr[data-build="${buildId}"]`), new RegExp(`${stack.owner}/dash`));
    await browser.screenshot('builds-list');
  });

  it('shows a failed build with its reason at the top', async () => {
    const { page } = browser;
    const sha = await repo.commit({ 'stack.yml': stackYml({ broken: { lang: 'node20', handler: './missing-folder' } }) });
    const res = await repo.push(sha);
    assert.equal(res.status, 202, res.text);
    const { buildId } = JSON.parse(res.text) as { buildId: string };
    await open(`#/build/${buildId}`);
    await waitFor('the build to fail on the page', async () => (await page.innerText('#build-state')) === 'failed', BUILD_MS, 250);
    await page.waitForSelector('#build-reason');
    const reason = await page.innerText('#build-reason');
    assert.match(reason, /^Failed: /);
    assert.match(reason, /missing-folder/);
    const api = (await (await fetch(`${stack.gateway.url}/ui/api/builds/${buildId}`, { headers: await signInAs({ user: 'admin', role: 'admin' }) })).json()) as { reason: string };
    assert.equal(reason, `Failed: ${api.reason}`);
    await browser.screenshot('build-failed');
  });

  it("lets an owner see their builds and refuses another owner's", async () => {
    const { page } = browser;
    const mine = await signInAs({ user: stack.owner, role: 'owner', namespace: stack.namespace });
    const repos = (await (await fetch(`${stack.gateway.url}/ui/api/repositories`, { headers: mine })).json()) as { repositories: { fullName: string }[] };
    assert.deepEqual(repos.repositories.map((r) => r.fullName), [`${stack.owner}/dash`]);
    const builds = (await (await fetch(`${stack.gateway.url}/ui/api/builds`, { headers: mine })).json()) as { builds: { id: string; logUrl?: string }[] };
    assert.equal(builds.builds.length, 2);
    assert.ok(builds.builds.every((b) => b.logUrl === undefined), 'the log token stays on the server');

    const other = await signInAs({ user: 'mallory', role: 'owner', namespace: 'gh-mallory' });
    assert.deepEqual(((await (await fetch(`${stack.gateway.url}/ui/api/repositories`, { headers: other })).json()) as { repositories: unknown[] }).repositories, []);
    assert.deepEqual(((await (await fetch(`${stack.gateway.url}/ui/api/builds`, { headers: other })).json()) as { builds: unknown[] }).builds, []);
    for (const b of builds.builds) {
      assert.equal((await fetch(`${stack.gateway.url}/ui/api/builds/${b.id}`, { headers: other })).status, 404);
      assert.equal((await fetch(`${stack.gateway.url}/ui/api/builds/${b.id}/log`, { headers: other })).status, 404);
    }
    await open(`#/build/${builds.builds[0].id}`);
    await page.waitForSelector('text=not yours');
  });
});
