// The dashboard's #/secrets page in a real browser: an owner signed in with GitHub (the
// OAuth web flow against the API stand-in) lists their namespace's secrets by name,
// creates, updates and removes one, and makes an API token that is shown once and then
// works as faas-cli's basic auth against /system/secrets until revoked. The value and the
// token appear nowhere they should not: not in the page after saving, not in any dashboard
// answer, not in another owner's reach. The admin manages any namespace's secrets.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { ownerNamespace } from '../../shared/names.js';
import { startFakeGitHub, type FakeGitHub } from '../fakes/github-api.js';
import { startBrowser, type TestBrowser } from '../helpers/browser.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { deleteKeys } from '../helpers/redis-keys.js';

describe('dashboard secrets page', { timeout: 300_000 }, () => {
  const alice = `alice-${randomBytes(3).toString('hex')}`;
  const ns = ownerNamespace('github', alice);
  const prefix = `t-dsec-${randomBytes(4).toString('hex')}`;
  const github = { clientId: `Iv1.${randomBytes(8).toString('hex')}`, clientSecret: randomBytes(20).toString('hex') };
  const first = `first-${randomBytes(8).toString('hex')}`;
  const second = `second-${randomBytes(8).toString('hex')}`;
  const dashboardAnswers: string[] = [];
  let gh: FakeGitHub;
  let gw: TestGateway;
  let browser: TestBrowser;
  const secretFile = (name: string, namespace = ns) => path.join(gw.stateDir, 'secrets', namespace, name);
  const listAs = (user: string, token: string) =>
    fetch(`${gw.url}/system/secrets?namespace=${ns}`, { headers: { authorization: `Basic ${Buffer.from(`${user}:${token}`).toString('base64')}` } });

  before(async () => {
    gh = await startFakeGitHub({ token: 'unused', oauth: github });
    gw = await startTestGateway({
      env: { GITHUB_OAUTH_CLIENT_ID: github.clientId, GITHUB_OAUTH_CLIENT_SECRET: github.clientSecret, GITHUB_OAUTH_URL: gh.url, GITHUB_API_URL: gh.url, GITFAAS_QUEUE_PREFIX: prefix },
    });
    browser = await startBrowser();
    browser.page.on('response', async (res) => {
      if (res.url().includes('/ui/api/')) dashboardAnswers.push(await res.text().catch(() => ''));
    });
    gh.oauth!.approveAs(alice);
    await browser.page.goto(`${gw.url}/ui/`);
    await browser.page.click('#signin-github');
    await browser.page.waitForSelector('#who');
  });
  after(async () => {
    await browser?.close();
    await gw?.stop();
    await gh?.stop();
    const redis = new Redis('redis://127.0.0.1:6379');
    await deleteKeys(redis, [`${prefix}:*`]);
    redis.disconnect();
  });

  it('creates, lists by name, updates and removes a secret of the owner\'s namespace', async () => {
    const { page } = browser;
    await page.click('header nav a[href="#/secrets"]');
    await page.waitForSelector('text=No secrets yet.');
    assert.equal(await page.innerText('#secrets-ns'), `namespace ${ns}`);

    await page.fill('#secret-name', 'api-key');
    await page.fill('#secret-value', first);
    await page.click('#secret-create');
    await page.waitForSelector('tr[data-secret="api-key"]');
    await page.waitForSelector('text=Secret api-key created.');
    assert.equal(await readFile(secretFile('api-key'), 'utf8'), first);
    assert.equal(await page.inputValue('#secret-value'), '', 'the value field is cleared');

    // Creating it again is a conflict, said on the page.
    await page.fill('#secret-value', second);
    await page.click('#secret-create');
    await page.waitForSelector(`text=secret "api-key" already exists in namespace "${ns}"`);
    await page.fill('#secret-name', 'api-key');
    await page.fill('#secret-value', second);
    await page.click('#secret-update');
    await page.waitForSelector('text=Secret api-key updated.');
    assert.equal(await readFile(secretFile('api-key'), 'utf8'), second);

    await page.fill('#secret-name', 'Bad_Name');
    await page.fill('#secret-value', 'x');
    await page.click('#secret-create');
    await page.waitForSelector('text=the secret name "Bad_Name"');
    await browser.screenshot('secrets-owner');

    await page.fill('#secret-name', 'temp');
    await page.fill('#secret-value', first);
    await page.click('#secret-create');
    await page.waitForSelector('tr[data-secret="temp"]');
    await page.click('tr[data-secret="temp"] button.remove');
    await page.waitForSelector('text=Secret temp removed.');
    assert.equal(await page.locator('tr[data-secret="temp"]').count(), 0);
    await assert.rejects(stat(secretFile('temp')), { code: 'ENOENT' });

    const content = await page.content();
    assert.ok(!content.includes(first) && !content.includes(second), 'no value in the page');
  });

  it('refuses another namespace on the server, whatever the page does', async () => {
    const { page } = browser;
    const other = `gh-other-${randomBytes(3).toString('hex')}`;
    const answers = await page.evaluate(async (namespace) => {
      const csrf = ((await (await fetch('/ui/api/session')).json()) as { csrf: string }).csrf;
      const headers = { 'content-type': 'application/json', 'x-csrf-token': csrf };
      const read = await fetch(`/ui/api/secrets/${namespace}`);
      const write = await fetch(`/ui/api/secrets/${namespace}`, { method: 'POST', headers, body: JSON.stringify({ name: 'x', value: 'y' }) });
      const token = await fetch(`/ui/api/token/${namespace}`, { method: 'POST', headers });
      const noCsrf = await fetch(`/ui/api/token/${namespace}`, { method: 'POST' });
      return [read.status, await read.text(), write.status, token.status, noCsrf.status];
    }, other);
    assert.deepEqual(answers, [403, JSON.stringify({ error: `namespace "${other}" is not yours` }), 403, 403, 403]);
    await assert.rejects(stat(secretFile('x', other)), { code: 'ENOENT' });
  });

  it('makes an API token shown once that faas-cli can use, and revokes it', async () => {
    const { page } = browser;
    await page.waitForSelector('text=No API token.');
    await page.click('#token-create');
    const token = (await (await page.waitForSelector('#token-value')).innerText()).trim();
    assert.match(token, /^gft_/);
    assert.match(await page.innerText('#token-status'), new RegExp(`made .* by ${alice}`));
    await browser.screenshot('secrets-token');

    // faas-cli login + secret list --namespace: basic auth, user = namespace.
    const listed = await listAs(ns, token);
    assert.equal(listed.status, 200);
    assert.deepEqual(await listed.json(), [{ name: 'api-key', namespace: ns }]);

    await page.reload();
    await page.waitForSelector('#token-revoke');
    assert.equal(await page.locator('#token-value').count(), 0, 'not shown again');
    assert.ok(!(await page.content()).includes(token));
    await page.click('#token-revoke');
    await page.waitForSelector('text=API token revoked.');
    await page.waitForSelector('text=No API token.');
    assert.equal((await listAs(ns, token)).status, 401);

    const creation = dashboardAnswers.filter((text) => text.includes(token));
    assert.equal(creation.length, 1, 'only the creation answer holds the token');
    for (const text of dashboardAnswers) assert.ok(!text.includes(first) && !text.includes(second), `no value in ${text.slice(0, 120)}`);
  });
  it('lets the admin pick any namespace and manage its secrets', async () => {
    const { page } = browser;
    const other = `gh-other-${randomBytes(3).toString('hex')}`;
    const [user, password] = Buffer.from(gw.authHeader.slice('Basic '.length), 'base64').toString().split(/:(.*)/s);
    await page.click('#logout');
    await page.fill('#login-user', user);
    await page.fill('#login-password', password);
    await page.click('#login-submit');
    await page.waitForSelector('#who');
    await page.goto(`${gw.url}/ui/#/secrets`);
    await page.fill('#secrets-namespace', ns);
    await page.click('text=Open');
    await page.waitForSelector('tr[data-secret="api-key"]');
    await page.goto(`${gw.url}/ui/#/secrets?namespace=${other}`);
    await page.waitForSelector('text=No secrets yet.');
    await page.fill('#secret-name', 'admin-made');
    await page.fill('#secret-value', first);
    await page.click('#secret-create');
    await page.waitForSelector('tr[data-secret="admin-made"]');
    assert.equal(await readFile(secretFile('admin-made', other), 'utf8'), first);
    await page.click('tr[data-secret="admin-made"] button.remove');
    await page.waitForSelector('text=Secret admin-made removed.');
  });
});
