// The dashboard's async view in a real browser against a real gateway and NATS JetStream
// (fresh streams for this test, no queue-worker, so calls stay queued): calls waiting per
// function with their age, dead letters with their last error, replay; an owner sees and
// replays only their namespace's.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { connect, type NatsConnection } from 'nats';
import { publishDeadLetter } from '../../shared/async-dead-letters.js';
import { loadGatewayConfig } from '../../services/gateway/config.js';
import { Sessions, SESSION_COOKIE } from '../../services/dashboard/session.js';
import { deleteStreams, uniqueAsyncEnv } from '../async/support.js';
import { startBrowser, type TestBrowser } from '../helpers/browser.js';
import { deployAndWait, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { fixtureImage } from '../helpers/images.js';
import { waitFor } from '../helpers/wait.js';

const SECRET = randomBytes(32).toString('base64url');

describe('dashboard async view in a browser', { timeout: 300_000 }, () => {
  const env = { ...uniqueAsyncEnv(), GITFAAS_DASHBOARD_SESSION_SECRET: SECRET };
  const streams = loadGatewayConfig({ ...env, GITFAAS_ADMIN_PASSWORD: 'x' }).async.streams;
  const otherNamespace = `t-${randomBytes(5).toString('hex')}`;
  const sessions = new Sessions(SECRET, 600_000);
  let gw: TestGateway;
  let browser: TestBrowser;
  let nc: NatsConnection;

  const cookieFor = (who: { user: string; role: 'admin' | 'owner'; namespace?: string }) => sessions.encode({ id: randomBytes(8).toString('hex'), ...who, exp: Date.now() + 600_000 });
  const deadLetter = (namespace: string, name: string, callId: string) =>
    publishDeadLetter(
      nc.jetstream(),
      streams,
      { callId, name, namespace, method: 'POST', path: '/work', query: '', headers: [], enqueuedAt: Date.now() - 60_000, body: new TextEncoder().encode('payload') },
      'every attempt failed',
      [
        { attempt: 1, status: 500, at: new Date().toISOString(), durationMs: 12 },
        { attempt: 2, status: 502, error: 'upstream said no', at: new Date().toISOString(), durationMs: 9 },
      ],
    );

  before(async () => {
    const image = await fixtureImage('echo');
    gw = await startTestGateway({ env });
    await deployAndWait(gw, { service: 'echo', image });
    nc = await connect({ servers: 'nats://127.0.0.1:4222' });
    // The gateway makes the streams once NATS is connected.
    await waitFor('the async streams', async () => (await (await nc.jetstreamManager()).streams.info(streams.stream).then(() => true, () => false)), 20_000);
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${gw.url}/async-function/echo.${gw.namespace}`, { method: 'POST', body: `call ${i}` });
      assert.equal(res.status, 202, await res.text());
    }
    await deadLetter(gw.namespace, 'echo', 'mine-1');
    await deadLetter(otherNamespace, 'theirs', 'theirs-1');
    browser = await startBrowser();
  });
  after(async () => {
    await browser?.close();
    await gw?.stop();
    await nc?.close();
    await deleteStreams(streams);
  });

  it('shows queued calls and dead letters to the admin, and replays one', async () => {
    const { page, context } = browser;
    await context.addCookies([{ name: SESSION_COOKIE, value: cookieFor({ user: 'admin', role: 'admin' }), domain: '127.0.0.1', path: '/ui', httpOnly: true, sameSite: 'Strict' }]);
    await page.goto(`${gw.url}/ui/#/async`);
    const queued = page.locator(`tr[data-queue="echo.${gw.namespace}"]`);
    await queued.waitFor();
    assert.equal(await queued.locator('.pending').innerText(), '3');
    assert.match(await queued.innerText(), /\ds ago|\dm ago/);
    await page.waitForSelector('#dead-letters tr[data-dead-letter]');
    const rows = page.locator('#dead-letters tr[data-dead-letter]');
    assert.equal(await rows.count(), 2);
    const mine = rows.filter({ hasText: `echo.${gw.namespace}` });
    assert.match(await mine.innerText(), /every attempt failed \(last answer 502\): upstream said no/);
    assert.match(await mine.innerText(), /mine-1/);
    await browser.screenshot('async-admin');

    await mine.locator('button.replay').click();
    await waitFor('the replayed dead letter to leave the list', async () => (await rows.count()) === 1, 15_000, 100);
    await waitFor('the replayed call to be queued', async () => (await queued.locator('.pending').innerText()) === '4', 15_000, 200);
  });

  it('shows an owner only their namespace and refuses to replay another owner\'s dead letter', async () => {
    await deadLetter(gw.namespace, 'echo', 'mine-2');
    const owner = { cookie: `${SESSION_COOKIE}=${cookieFor({ user: 'alice', role: 'owner', namespace: gw.namespace })}` };
    const letters = ((await (await fetch(`${gw.url}/ui/api/async/dead-letters`, { headers: owner })).json()) as { deadLetters: { id: number; namespace: string; callId: string }[] }).deadLetters;
    assert.deepEqual(letters.map((d) => d.callId), ['mine-2']);
    const queue = ((await (await fetch(`${gw.url}/ui/api/async/queue`, { headers: owner })).json()) as { functions: { namespace: string }[] }).functions;
    assert.ok(queue.length > 0 && queue.every((f) => f.namespace === gw.namespace));
    assert.equal((await fetch(`${gw.url}/ui/api/async/queue?namespace=${otherNamespace}`, { headers: owner })).status, 403);

    const admin = { cookie: `${SESSION_COOKIE}=${cookieFor({ user: 'admin', role: 'admin' })}` };
    const all = ((await (await fetch(`${gw.url}/ui/api/async/dead-letters`, { headers: admin })).json()) as { deadLetters: { id: number; callId: string }[] }).deadLetters;
    const theirs = all.find((d) => d.callId === 'theirs-1')!;
    const csrf = ((await (await fetch(`${gw.url}/ui/api/session`, { headers: owner })).json()) as { csrf: string }).csrf;
    const refused = await fetch(`${gw.url}/ui/api/async/dead-letters/${theirs.id}/replay`, { method: 'POST', headers: { ...owner, 'x-csrf-token': csrf } });
    assert.equal(refused.status, 404);
    const still = ((await (await fetch(`${gw.url}/ui/api/async/dead-letters`, { headers: admin })).json()) as { deadLetters: { callId: string }[] }).deadLetters;
    assert.ok(still.some((d) => d.callId === 'theirs-1'), "the other owner's dead letter is still there");
    const withoutCsrf = await fetch(`${gw.url}/ui/api/async/dead-letters/${letters[0].id}/replay`, { method: 'POST', headers: owner });
    assert.equal(withoutCsrf.status, 403);
  });
});
