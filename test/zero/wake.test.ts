// A function labelled com.openfaas.scale.zero=true goes to zero after its zero-duration with
// no call, and a call brings it back: one call, then 50 at once (all 200, exactly one wake,
// counted from Docker's own events). A zero=false function beside it never reaches zero.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { deployAndWait, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { fixtureImage } from '../helpers/images.js';
import { call, invoke } from '../gateway/client.js';
import { events, replicas, waitForStates, waitForZero, zeroLabels } from './support.js';

let gw: TestGateway;
let image: string;

before(async () => {
  image = await fixtureImage('echo');
  gw = await startTestGateway({ env: { GITFAAS_ZERO_TICK_MS: '200', GITFAAS_ZERO_KEEP: 'paused' } });
});
after(() => gw?.stop());

test('idle to zero, woken by one call, then by 50 concurrent calls with one wake; zero=false stays', async () => {
  await deployAndWait(gw, { service: 'awake', image, labels: zeroLabels('1s', 'false') });
  await deployAndWait(gw, { service: 'sleepy', image, labels: zeroLabels('2s') });
  const before = Date.now();
  await waitForZero(gw, 'sleepy');
  // Idle for at least the zero-duration (the last call was the readiness check).
  assert.ok(Date.now() - before >= 1_500, 'went to zero before its zero-duration');
  // Kept paused: one container, frozen, not removed.
  await waitForStates(gw, 'sleepy', ['paused']);
  // sleepy reached zero with a shorter window than awake's: awake would have too.
  assert.equal(await replicas(gw, 'awake'), 1, 'a zero=false function was scaled down');

  const one = await invoke(gw, `sleepy.${gw.namespace}/one`);
  assert.equal(one.status, 200, one.text);
  assert.equal(one.json().path, '/one');
  assert.equal(await replicas(gw, 'sleepy'), 1);

  await waitForZero(gw, 'sleepy');
  await waitForStates(gw, 'sleepy', ['paused']);
  const t0 = Date.now();
  const answers = await Promise.all(
    Array.from({ length: 50 }, (_, i) => invoke(gw, `sleepy.${gw.namespace}/many?i=${i}`, { method: 'POST', body: `call ${i}` })),
  );
  const t1 = Date.now();
  assert.deepEqual(answers.map((a) => a.status), Array(50).fill(200), answers.find((a) => a.status !== 200)?.text);
  assert.deepEqual(answers.map((a) => a.json().bodyBytes), answers.map((_, i) => `call ${i}`.length));
  const actions = await events(gw, 'sleepy', t0 - 1_000, t1 + 1_000);
  assert.equal(actions.filter((a) => a === 'unpause:replica').length, 1, `one wake expected, Docker saw: ${actions.join(', ')}`);
  assert.equal(actions.filter((a) => a === 'create:replica').length, 0, `a kept replica is resumed, not re-created: ${actions.join(', ')}`);
  assert.equal(await replicas(gw, 'sleepy'), 1);
  assert.equal((await call(gw, 'GET', `/system/function/awake?namespace=${gw.namespace}`)).json().replicas, 1);
});
