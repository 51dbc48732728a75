// The dashboard in a real browser (chromium via playwright-core) against a real gateway
// with the Docker provider: admin sign-in, the live functions list, a function's page
// (invoke, logs, scale), tenancy enforced on the server, CSRF and expired sessions refused.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Sessions, SESSION_COOKIE } from '../../services/dashboard/session.js';
import { startBrowser, type TestBrowser } from '../helpers/browser.js';
import { deployAndWait, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { fixtureImage } from '../helpers/images.js';
import { waitFor } from '../helpers/wait.js';

const SECRET = randomBytes(32).toString('base64url');

describe('dashboard in a browser', { timeout: 300_000 }, () => {
  let gw: TestGateway;
  let browser: TestBrowser;
  let image: string;
  let password: string;
  /** A second namespace, someone else's. */
  const otherNamespace = `t-${randomBytes(5).toString('hex')}`;

  before(async () => {
    image = await fixtureImage('echo');
    gw = await startTestGateway({ env: { GITFAAS_DASHBOARD_SESSION_SECRET: SECRET } });
    password = Buffer.from(gw.authHeader.slice('Basic '.length), 'base64').toString().split(':')[1];
    await deployAndWait(gw, { service: 'echo', image });
    const other = await fetch(`${gw.url}/system/functions`, {
      method: 'POST',
      headers: { authorization: gw.authHeader, 'content-type': 'application/json' },
      body: JSON.stringify({ service: 'other', image, namespace: otherNamespace }),
    });
    assert.equal(other.status, 202);
    await waitFor('the other namespace function', async () => (await fetch(`${gw.url}/function/other.${otherNamespace}`)).status === 200, 60_000, 200);
    browser = await startBrowser();
  });

  after(async () => {
    await browser?.close();
    await gw?.stop();
  });

  it('refuses a wrong password, signs the admin in, and loads in well under a second', async () => {
    const { page } = browser;
    await page.goto(`${gw.url}/ui/`);
    await page.fill('#login-user', 'admin');
    await page.fill('#login-password', 'not-the-password');
    await page.click('#login-submit');
    await page.waitForSelector('text=wrong user or password');
    await page.fill('#login-password', password);
    await page.click('#login-submit');
    await page.waitForSelector(`tr[data-function="echo.${gw.namespace}"]`);
    await page.waitForSelector(`tr[data-function="other.${otherNamespace}"]`);
    const cookie = (await browser.context.cookies()).find((c) => c.name === SESSION_COOKIE);
    assert.ok(cookie, 'a session cookie is set');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.ok(cookie.expires > Date.now() / 1000, 'the cookie has an expiry');
    assert.equal(await page.evaluate(() => document.cookie), '', 'the page cannot read the session cookie');

    await page.reload();
    await page.waitForSelector(`tr[data-function="echo.${gw.namespace}"]`);
    const loadMs = await page.evaluate(() => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).loadEventEnd);
    assert.ok(loadMs < 1000, `the page loaded in ${loadMs} ms`);
    const row = page.locator(`tr[data-function="echo.${gw.namespace}"]`);
    assert.match(await row.innerText(), /1 \/ 1/);
    assert.match(await row.innerText(), new RegExp(`echo\\.?\\s*${gw.namespace}|${gw.namespace}`));
    assert.match(await row.innerText(), /gitfaas-test\/echo/);
    await browser.screenshot('functions-admin');
  });

  it('updates the list live when a function is deployed, and filters by namespace', async () => {
    const { page } = browser;
    await page.goto(`${gw.url}/ui/#/functions?namespace=${gw.namespace}`);
    await page.waitForSelector(`tr[data-function="echo.${gw.namespace}"]`);
    assert.equal(await page.locator(`tr[data-function="other.${otherNamespace}"]`).count(), 0, 'the picker shows one namespace');
    const deployed = fetch(`${gw.url}/system/functions`, {
      method: 'POST',
      headers: { authorization: gw.authHeader, 'content-type': 'application/json' },
      body: JSON.stringify({ service: 'late', image, namespace: gw.namespace }),
    });
    assert.equal((await deployed).status, 202);
    // No reload: the row arrives over server-sent events.
    await page.waitForSelector(`tr[data-function="late.${gw.namespace}"]`, { timeout: 60_000 });
  });

  it('invokes a function from its page and shows status, headers, duration and body; binary answers are downloadable', async () => {
    const { page } = browser;
    await page.goto(`${gw.url}/ui/#/function/${gw.namespace}/echo`);
    await page.waitForSelector('#invoke-form');
    await page.fill('#invoke-path', '/hello');
    await page.fill('#invoke-query', 'x=1');
    await page.fill('#invoke-headers', 'X-Test: yes');
    await page.selectOption('#invoke-kind', 'json');
    await page.fill('#invoke-body', '{"a": 1}');
    await page.click('#invoke-send');
    await page.waitForSelector('#invoke-status');
    assert.match(await page.innerText('#invoke-status'), /^200/);
    assert.match(await page.innerText('#invoke-duration'), /^\d+ ms$/);
    const answer = JSON.parse(await page.innerText('#invoke-body-out')) as { method: string; path: string; query: Record<string, string>; headers: Record<string, string>; bodyBytes: number };
    assert.equal(answer.method, 'POST');
    assert.equal(answer.path, '/hello');
    assert.deepEqual(answer.query, { x: '1' });
    assert.equal(answer.headers['x-test'], 'yes');
    assert.equal(answer.headers['content-type'], 'application/json');
    assert.equal(answer.bodyBytes, JSON.stringify({ a: 1 }).length);
    await browser.screenshot('function-invoke');

    await page.fill('#invoke-query', 'echo=1');
    await page.fill('#invoke-headers', 'Content-Type: application/octet-stream');
    await page.selectOption('#invoke-kind', 'text');
    await page.fill('#invoke-body', 'binary bytes');
    await page.click('#invoke-send');
    const link = page.locator('#invoke-download');
    await link.waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const stream = await download.createReadStream();
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), 'binary bytes');
  });

  it('follows the logs, scales the function, and sees the new replica log live', async () => {
    const { page } = browser;
    await page.goto(`${gw.url}/ui/#/function/${gw.namespace}/echo`);
    await page.waitForSelector('#logs .line');
    await waitFor('the first replica log line', async () => /listening on :8080/.test(await page.innerText('#logs')), 20_000);
    assert.equal(await page.locator('#logs .line', { hasText: 'listening on :8080' }).count(), 1);
    await page.fill('#scale-replicas', '2');
    await page.click('#scale-form button');
    await page.waitForSelector('#scale-note:has-text("scaling to 2")');
    await waitFor('the second replica to log', async () => (await page.locator('#logs .line', { hasText: 'listening on :8080' }).count()) === 2, 60_000, 200);
    await waitFor('2 / 2 replicas on the page', async () => (await page.innerText('#replicas-ready')) === '2 / 2', 30_000, 200);
    await page.fill('#logs-filter', 'no such text');
    assert.equal(await page.locator('#logs .line').count(), 0, 'the filter hides lines that do not match');
    await page.fill('#logs-filter', 'listening');
    assert.equal(await page.locator('#logs .line').count(), 2);
    const env = await page.innerText('#labels').catch(() => '');
    assert.ok(typeof env === 'string');
    await browser.screenshot('function-logs-scaled');
  });

  it('refuses a change without the CSRF token, and with a forged or expired session', async () => {
    const { page } = browser;
    await page.goto(`${gw.url}/ui/#/functions`);
    await page.waitForSelector('#functions');
    const scaleUrl = `/ui/api/functions/${gw.namespace}/echo/scale`;
    const withoutToken = await page.evaluate(async (url) => {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"replicas":0}' });
      return { status: res.status, body: await res.text() };
    }, scaleUrl);
    assert.equal(withoutToken.status, 403);
    assert.match(withoutToken.body, /CSRF/);
    const wrongToken = await page.evaluate(async (url) => (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': 'guess' }, body: '{"replicas":0}' })).status, scaleUrl);
    assert.equal(wrongToken, 403);
    const fn = await (await fetch(`${gw.url}/system/function/echo?namespace=${gw.namespace}`, { headers: { authorization: gw.authHeader } })).json();
    assert.equal((fn as { replicas: number }).replicas, 2, 'the refused changes changed nothing');

    const sessions = new Sessions(SECRET, 60_000);
    const expired = sessions.encode({ id: 'x', user: 'admin', role: 'admin', exp: Date.now() - 1000 });
    const headers = (cookie: string) => ({ cookie: `${SESSION_COOKIE}=${cookie}` });
    const expiredRes = await fetch(`${gw.url}/ui/api/functions`, { headers: headers(expired) });
    assert.equal(expiredRes.status, 401);
    assert.match(await expiredRes.text(), /expired/);
    const forged = sessions.encode({ id: 'x', user: 'admin', role: 'admin', exp: Date.now() + 60_000 }).replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    assert.equal((await fetch(`${gw.url}/ui/api/functions`, { headers: headers(forged) })).status, 401);
    const otherKey = new Sessions(randomBytes(32).toString('base64url'), 60_000).encode({ id: 'x', user: 'admin', role: 'admin', exp: Date.now() + 60_000 });
    assert.equal((await fetch(`${gw.url}/ui/api/functions`, { headers: headers(otherKey) })).status, 401);

    // An expired session in the browser sends the page back to sign-in.
    await browser.context.addCookies([{ name: SESSION_COOKIE, value: expired, domain: '127.0.0.1', path: '/ui', httpOnly: true, sameSite: 'Strict' }]);
    await page.goto(`${gw.url}/ui/#/functions`);
    await page.reload(); // the same URL: goto alone would not load the page again
    await page.waitForSelector('#login-form');
    await page.waitForSelector('text=session expired');
  });

  it('signs out: the cookie is gone and the API refuses', async () => {
    const { page } = browser;
    await page.goto(`${gw.url}/ui/`);
    await page.fill('#login-password', password);
    await page.click('#login-submit');
    await page.waitForSelector('#logout');
    const cookie = (await browser.context.cookies()).find((c) => c.name === SESSION_COOKIE)!.value;
    await page.click('#logout');
    await page.waitForSelector('#login-form');
    assert.equal((await browser.context.cookies()).find((c) => c.name === SESSION_COOKIE), undefined);
    assert.equal(await page.evaluate(async () => (await fetch('/ui/api/functions')).status), 401);
    // The cookie itself stays valid until it expires (sessions are stateless); the browser no longer has it.
    assert.ok(cookie.length > 0);
  });

  it("shows an owner only their namespace and refuses another owner's function by URL", async () => {
    const { page, context } = browser;
    const sessions = new Sessions(SECRET, 60_000);
    const owner = sessions.encode({ id: 'o', user: 'alice', role: 'owner', namespace: gw.namespace, exp: Date.now() + 60_000 });
    await context.addCookies([{ name: SESSION_COOKIE, value: owner, domain: '127.0.0.1', path: '/ui', httpOnly: true, sameSite: 'Strict' }]);
    await page.goto(`${gw.url}/ui/#/functions`);
    await page.reload();
    await page.waitForSelector(`tr[data-function="echo.${gw.namespace}"]`);
    assert.equal(await page.locator(`tr[data-function="other.${otherNamespace}"]`).count(), 0);
    assert.equal(await page.locator('#namespace-picker').count(), 0, 'an owner has no namespace picker');
    await browser.screenshot('functions-owner');

    await page.goto(`${gw.url}/ui/#/function/${otherNamespace}/other`);
    await page.waitForSelector(`text=namespace "${otherNamespace}" is not yours`);
    await browser.screenshot('owner-refused');
    const cookie = { cookie: `${SESSION_COOKIE}=${owner}` };
    for (const path of [`functions?namespace=${otherNamespace}`, `functions/${otherNamespace}/other`, `functions/${otherNamespace}/other/logs`, `functions/events?namespace=${otherNamespace}`]) {
      assert.equal((await fetch(`${gw.url}/ui/api/${path}`, { headers: cookie })).status, 403, path);
    }
    const csrf = ((await (await fetch(`${gw.url}/ui/api/session`, { headers: cookie })).json()) as { csrf: string }).csrf;
    const scale = await fetch(`${gw.url}/ui/api/functions/${otherNamespace}/other/scale`, {
      method: 'POST',
      headers: { ...cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' },
      body: '{"replicas":0}',
    });
    assert.equal(scale.status, 403);
    const list = (await (await fetch(`${gw.url}/ui/api/functions`, { headers: cookie })).json()) as { functions: { namespace: string }[] };
    assert.ok(list.functions.length >= 1);
    assert.ok(list.functions.every((f) => f.namespace === gw.namespace));
  });
});
