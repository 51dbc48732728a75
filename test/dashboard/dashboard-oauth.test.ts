// Owner sign-in with GitHub and GitLab through the real OAuth web flow in a browser,
// against the API stand-ins (authorize redirect, token exchange, GET /user): an owner
// lands in their own namespace and is refused another's; someone not on the customer
// list is told so; a denied, forged or replayed sign-in fails with its reason.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SESSION_COOKIE } from '../../services/dashboard/session.js';
import { ownerNamespace } from '../../shared/names.js';
import { startFakeGitHub, type FakeGitHub } from '../fakes/github-api.js';
import { startFakeGitLab, type FakeGitLab } from '../fakes/gitlab-api.js';
import { startBrowser, type TestBrowser } from '../helpers/browser.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { fixtureImage } from '../helpers/images.js';
import { waitFor } from '../helpers/wait.js';

describe('dashboard sign-in with GitHub and GitLab', { timeout: 300_000 }, () => {
  const suffix = randomBytes(3).toString('hex');
  const alice = `alice-${suffix}`;
  const bob = `bob-${suffix}`;
  const github = { clientId: `Iv1.${randomBytes(8).toString('hex')}`, clientSecret: randomBytes(20).toString('hex') };
  const gitlab = { clientId: randomBytes(16).toString('hex'), clientSecret: `gloas-${randomBytes(20).toString('hex')}` };
  let gh: FakeGitHub;
  let gl: FakeGitLab;
  let gw: TestGateway;
  let browser: TestBrowser;

  const deploy = async (service: string, namespace: string, image: string) => {
    const res = await fetch(`${gw.url}/system/functions`, {
      method: 'POST',
      headers: { authorization: gw.authHeader, 'content-type': 'application/json' },
      body: JSON.stringify({ service, image, namespace }),
    });
    assert.equal(res.status, 202, await res.text());
    await waitFor(`${service}.${namespace}`, async () => (await fetch(`${gw.url}/function/${service}.${namespace}`)).status === 200, 60_000, 200);
  };
  const signInWith = async (host: 'github' | 'gitlab') => {
    await browser.context.clearCookies();
    await browser.page.goto(`${gw.url}/ui/`);
    await browser.page.click(`#signin-${host}`);
  };

  before(async () => {
    const image = await fixtureImage('echo');
    gh = await startFakeGitHub({ token: 'unused', oauth: github });
    gl = await startFakeGitLab({ token: 'unused', oauth: gitlab });
    gw = await startTestGateway({
      env: {
        GITHUB_OAUTH_CLIENT_ID: github.clientId,
        GITHUB_OAUTH_CLIENT_SECRET: github.clientSecret,
        GITHUB_OAUTH_URL: gh.url,
        GITHUB_API_URL: gh.url,
        GITLAB_OAUTH_CLIENT_ID: gitlab.clientId,
        GITLAB_OAUTH_CLIENT_SECRET: gitlab.clientSecret,
        GITLAB_URL: gl.url,
        GITFAAS_CUSTOMERS: `${alice}, gitlab:${bob}`,
      },
    });
    await deploy('echo', ownerNamespace('github', alice), image);
    await deploy('secret-fn', gw.namespace, image);
    browser = await startBrowser();
  });
  after(async () => {
    await browser?.close();
    await gw?.stop();
    await gh?.stop();
    await gl?.stop();
  });

  it('signs a GitHub owner in to their own namespace and refuses another owner\'s function by URL', async () => {
    const { page } = browser;
    const ns = ownerNamespace('github', alice);
    gh.oauth!.approveAs(alice);
    await signInWith('github');
    await page.waitForSelector(`tr[data-function="echo.${ns}"]`);
    assert.equal(await page.innerText('#who'), `${alice} · ${ns}`);
    assert.equal(await page.locator('#functions tbody tr').count(), 1);
    assert.equal(await page.locator('#namespace-picker').count(), 0);
    const calls = gh.calls.map((c) => `${c.method} ${c.path}`);
    assert.deepEqual(calls.slice(-2), ['POST /login/oauth/access_token', 'GET /user']);
    // The token stayed on the server: not in a cookie, not in the page.
    for (const cookie of await browser.context.cookies()) assert.doesNotMatch(cookie.value + Buffer.from(cookie.value.split('.')[0], 'base64url').toString(), /gho_/);
    assert.doesNotMatch(await page.content(), /gho_/);
    await browser.screenshot('owner-github');

    await page.goto(`${gw.url}/ui/#/function/${gw.namespace}/secret-fn`);
    await page.waitForSelector(`text=namespace "${gw.namespace}" is not yours`);
    const status = await page.evaluate(async (url) => (await fetch(url)).status, `/ui/api/functions/${gw.namespace}/secret-fn`);
    assert.equal(status, 403);
    const own = await page.evaluate(async (url) => (await fetch(url)).status, `/ui/api/functions/${ns}/echo`);
    assert.equal(own, 200);
  });

  it('signs a GitLab owner in as gl-<login>', async () => {
    const { page } = browser;
    gl.oauth!.approveAs(bob);
    await signInWith('gitlab');
    await page.waitForSelector('#who');
    assert.equal(await page.innerText('#who'), `${bob} · ${ownerNamespace('gitlab', bob)}`);
    await page.waitForSelector('text=No functions yet');
    assert.ok((await browser.context.cookies()).some((c) => c.name === SESSION_COOKIE));
  });

  it('tells an owner who is not on the customer list, and one the host did not sign in', async () => {
    const { page } = browser;
    gh.oauth!.approveAs(bob); // bob is listed for GitLab only
    await signInWith('github');
    await page.waitForSelector(`text=${bob} on GitHub is not on this platform's customer list`);
    assert.equal((await browser.context.cookies()).find((c) => c.name === SESSION_COOKIE), undefined);
    await browser.screenshot('signin-not-a-customer');

    gh.oauth!.approveAs(undefined);
    await signInWith('github');
    await page.waitForSelector('text=GitHub did not sign you in: The user has denied your application access.');
  });

  it('refuses a callback with a wrong state, a bad code, or a replayed code', async () => {
    const { page } = browser;
    await browser.context.clearCookies();
    await page.goto(`${gw.url}/ui/oauth/github/callback?code=whatever&state=forged`);
    await page.waitForSelector('text=could not be matched to this browser');

    // The right state and its cookie, but a code GitHub never issued.
    const start = await fetch(`${gw.url}/ui/oauth/github/start`, { redirect: 'manual' });
    assert.equal(start.status, 302);
    const authorize = new URL(start.headers.get('location')!);
    assert.equal(authorize.origin + authorize.pathname, `${gh.url}/login/oauth/authorize`);
    assert.equal(authorize.searchParams.get('client_id'), github.clientId);
    assert.equal(authorize.searchParams.get('redirect_uri'), `${gw.url}/ui/oauth/github/callback`);
    const stateCookie = start.headers.get('set-cookie')!.split(';')[0];
    assert.match(start.headers.get('set-cookie')!, /HttpOnly/i);
    assert.match(start.headers.get('set-cookie')!, /SameSite=Lax/i);
    const bad = await fetch(`${gw.url}/ui/oauth/github/callback?code=bogus&state=${authorize.searchParams.get('state')}`, { redirect: 'manual', headers: { cookie: stateCookie } });
    assert.equal(bad.status, 302);
    const landing = bad.headers.get('location')!;
    assert.equal(new URL(landing, gw.url).searchParams.get('signin_error'), 'GitHub refused the sign-in code (bad_verification_code: The code passed is incorrect or expired.)');
    assert.doesNotMatch(bad.headers.get('set-cookie') ?? '', new RegExp(SESSION_COOKIE));
    await page.goto(new URL(landing, gw.url).toString());
    await page.waitForSelector('text=The code passed is incorrect or expired');

    // A good code used twice: the second callback has no state cookie left and fails.
    gl.oauth!.approveAs(bob);
    let callback = '';
    page.on('request', (req) => {
      if (req.url().includes('/ui/oauth/gitlab/callback')) callback = req.url();
    });
    await signInWith('gitlab');
    await page.waitForSelector('#who');
    await page.goto(callback);
    await page.waitForSelector('text=could not be matched to this browser');

    assert.equal((await fetch(`${gw.url}/ui/oauth/bitbucket/start`, { redirect: 'manual' })).status, 404);
  });
});
