// The dashboard's call figures and deploy history in a real browser against a real gateway
// (Docker provider, Redis): after known traffic (20 calls, 5 answered 500, 2 slow) the list
// and the function page show 20 calls, a 25% error rate and a p99 above the slow calls, with
// a chart; the deploy history shows what the deployer recorded for the function's repository
// (written with shared/deploy-history.ts, as the deployer does), and nothing of another
// namespace's deploys, and an owner of another namespace is refused it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { Sessions, SESSION_COOKIE } from '../../services/dashboard/session.js';
import { DeployHistory, type DeployRecord } from '../../shared/deploy-history.js';
import { ownerNamespace } from '../../shared/names.js';
import { startBrowser, type TestBrowser } from '../helpers/browser.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { fixtureImage } from '../helpers/images.js';
import { waitFor } from '../helpers/wait.js';

const SECRET = randomBytes(32).toString('base64url');
const PREFIX = `test-stats-${randomBytes(4).toString('hex')}`;
const LOGIN = `u${randomBytes(4).toString('hex')}`;
const NAMESPACE = ownerNamespace('github', LOGIN);
const REPO_ID = 100_000 + Math.floor(Math.random() * 1e6);
const SLOW_MS = 300;

function record(sha: string, at: string, namespace: string, functions: string[], buildId?: string): DeployRecord {
  return {
    sha,
    at,
    ...(buildId ? { buildId } : {}),
    source: {
      scm: 'github',
      owner: LOGIN,
      repo: 'site',
      fullName: `${LOGIN}/site`,
      repoId: REPO_ID,
      cloneUrl: 'file:///nowhere',
      private: false,
      namespace,
      sha,
      branch: 'main',
      defaultBranch: 'main',
    },
    functions: functions.map((name) => ({ name, image: `127.0.0.1:5000/${namespace}/${name}@sha256:${sha.padEnd(64, '0')}`, envVars: {}, labels: {}, annotations: {}, secrets: [] })),
  };
}

describe('dashboard call figures and deploy history', { timeout: 240_000 }, () => {
  let gw: TestGateway;
  let browser: TestBrowser;
  let redis: Redis;
  let cookie: string;

  before(async () => {
    const image = await fixtureImage('echo');
    gw = await startTestGateway({ env: { GITFAAS_DASHBOARD_SESSION_SECRET: SECRET, GITFAAS_QUEUE_PREFIX: PREFIX } });
    redis = new Redis('redis://127.0.0.1:6379');
    const res = await fetch(`${gw.url}/system/functions`, {
      method: 'POST',
      headers: { authorization: gw.authHeader, 'content-type': 'application/json' },
      body: JSON.stringify({
        service: 'stats',
        image,
        namespace: NAMESPACE,
        labels: { 'com.openfaas.cloud.git-scm': 'github', 'com.openfaas.cloud.git-repo-id': String(REPO_ID), 'com.openfaas.cloud.git-sha': 'b'.repeat(40) },
      }),
    });
    assert.equal(res.status, 202, await res.text());
    // Ready without calling it through the proxy, so the figures hold only the calls below.
    await waitFor(
      'the stats function ready',
      async () => {
        const fn = await fetch(`${gw.url}/system/function/stats?namespace=${NAMESPACE}`, { headers: { authorization: gw.authHeader } });
        return fn.ok && ((await fn.json()) as { availableReplicas: number }).availableReplicas >= 1;
      },
      60_000,
      200,
    );
    const history = new DeployHistory(redis, PREFIX);
    await history.record(record('a'.repeat(40), '2026-01-01T10:00:00.000Z', NAMESPACE, ['stats', 'other'], 'build-older'));
    await history.record(record('c'.repeat(40), '2026-01-01T11:00:00.000Z', NAMESPACE, ['other']));
    await history.record(record('d'.repeat(40), '2026-01-01T11:30:00.000Z', 'gh-someone-else', ['stats']));
    await history.record(record('b'.repeat(40), '2026-01-01T12:00:00.000Z', NAMESPACE, ['stats'], 'build-newest'));
    cookie = new Sessions(SECRET, 600_000).encode({ id: 'a', user: 'admin', role: 'admin', exp: Date.now() + 600_000 });
    browser = await startBrowser();
    await browser.context.addCookies([{ name: SESSION_COOKIE, value: cookie, domain: '127.0.0.1', path: '/ui', httpOnly: true, sameSite: 'Strict' }]);
  });

  after(async () => {
    await browser?.close();
    if (redis) {
      await redis.del(`${PREFIX}:deploy-history:github:${REPO_ID}`);
      redis.disconnect();
    }
    await gw?.stop();
  });

  it('shows 20 calls, a 25% error rate and p50 / p99 after known traffic, in the list and with a chart', async () => {
    const call = async (query: string, expected: number) => {
      const res = await fetch(`${gw.url}/function/stats.${NAMESPACE}/?${query}`);
      await res.arrayBuffer();
      assert.equal(res.status, expected, query);
    };
    for (let i = 0; i < 13; i++) await call('n=1', 200);
    for (let i = 0; i < 2; i++) await call(`sleep=${SLOW_MS}`, 200);
    for (let i = 0; i < 5; i++) await call('status=500', 500);

    const api = (await (await fetch(`${gw.url}/ui/api/functions/${NAMESPACE}/stats`, { headers: { cookie: `${SESSION_COOKIE}=${cookie}` } })).json()) as {
      lastMinute: { calls: number; errorRate: number; p50Ms: number; p99Ms: number };
      series: { calls: number; errors: number }[];
    };
    assert.equal(api.lastMinute.calls, 20);
    assert.equal(api.lastMinute.errorRate, 0.25);
    assert.ok(api.lastMinute.p99Ms >= SLOW_MS, `p99 ${api.lastMinute.p99Ms} ms covers the slow calls`);
    assert.ok(api.lastMinute.p50Ms < SLOW_MS, `p50 ${api.lastMinute.p50Ms} ms is a fast call's`);
    assert.equal(api.series.reduce((n, p) => n + p.calls, 0), 20);
    assert.equal(api.series.reduce((n, p) => n + p.errors, 0), 5);

    const { page } = browser;
    await page.goto(`${gw.url}/ui/#/functions?namespace=${NAMESPACE}`);
    const row = page.locator(`tr[data-function="stats.${NAMESPACE}"]`);
    await row.waitFor();
    assert.equal(await row.locator('.error-rate').innerText(), '25%');
    assert.equal(await row.locator('.rate').innerText(), '0.33/s');
    assert.match(await row.locator('.latency').innerText(), /^\d+ ms \/ \d+ ms$/);

    await page.goto(`${gw.url}/ui/#/function/${NAMESPACE}/stats`);
    await page.waitForSelector('#call-figures');
    assert.equal(await page.innerText('#figure-calls'), '20');
    assert.equal(await page.innerText('#figure-error-rate'), '25%');
    const [p50, p99] = (await page.innerText('#figure-latency')).split(' / ').map((t) => Number(t.replace(/ ms$/, '')));
    assert.ok(p99 >= SLOW_MS && p50 < SLOW_MS, `p50 ${p50}, p99 ${p99}`);
    // The chart: both lines, one point per 5-second step, the newest rising above the baseline.
    const points = await page.locator('#call-chart polyline.rate').getAttribute('points');
    assert.equal(points!.split(' ').length, 36);
    const ys = points!.split(' ').map((p) => Number(p.split(',')[1]));
    assert.equal(Math.min(...ys), 4, 'the busiest step reaches the top of the chart');
    assert.ok(ys.filter((y) => y < 136).length <= 2, 'the calls fall in one or two 5-second steps; the rest is at the baseline');
    assert.equal(await page.locator('#call-chart polyline.latency').count(), 1);
  });

  it("shows the function's deploy history from Redis, newest first, without other namespaces' deploys", async () => {
    const { page } = browser;
    await page.goto(`${gw.url}/ui/#/function/${NAMESPACE}/stats`);
    await page.waitForSelector('#deploys tbody tr');
    const rows = page.locator('#deploys tbody tr');
    assert.deepEqual(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-sha'))), ['b'.repeat(40), 'a'.repeat(40)]);
    const newest = await rows.nth(0).innerText();
    assert.match(newest, /bbbbbbb/);
    assert.match(newest, new RegExp(`sha256:${'b'.repeat(40)}`));
    assert.match(newest, /live/);
    assert.match(newest, /build-newest/);
    assert.doesNotMatch(await rows.nth(1).innerText(), /live/);
    assert.match(await page.innerText('#deploy-history'), new RegExp(`${LOGIN}/site`));
    await page.locator('#deploy-history').scrollIntoViewIfNeeded();
    await browser.screenshot('function-figures-deploys');

    const owner = new Sessions(SECRET, 60_000).encode({ id: 'o', user: 'mallory', role: 'owner', namespace: gw.namespace, exp: Date.now() + 60_000 });
    const refused = await fetch(`${gw.url}/ui/api/functions/${NAMESPACE}/stats/deploys`, { headers: { cookie: `${SESSION_COOKIE}=${owner}` } });
    assert.equal(refused.status, 403);
    const mine = new Sessions(SECRET, 60_000).encode({ id: 'p', user: LOGIN, role: 'owner', namespace: NAMESPACE, exp: Date.now() + 60_000 });
    const allowed = await fetch(`${gw.url}/ui/api/functions/${NAMESPACE}/stats/deploys`, { headers: { cookie: `${SESSION_COOKIE}=${mine}` } });
    assert.equal(allowed.status, 200);
    assert.equal(((await allowed.json()) as { deploys: unknown[] }).deploys.length, 2);
  });
});
