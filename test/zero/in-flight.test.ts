// The idler counts calls in flight, not only finished ones: a call longer than the
// zero-duration keeps its function up until it has answered; only then does it go to zero.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { deployAndWait, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { fixtureImage } from '../helpers/images.js';
import { invoke } from '../gateway/client.js';
import { replicas, waitForZero, zeroLabels } from './support.js';

let gw: TestGateway;
let image: string;

before(async () => {
  image = await fixtureImage('echo');
  gw = await startTestGateway({ env: { GITFAAS_ZERO_TICK_MS: '100' } });
});
after(() => gw?.stop());

test('a call in flight longer than zero-duration keeps the function up', async () => {
  await deployAndWait(gw, { service: 'slow', image, labels: zeroLabels('2s') });
  // Three zero-durations, with the idler looking ten times a second (2 s of slack for the
  // call to reach the gateway on a loaded machine).
  const slow = invoke(gw, `slow.${gw.namespace}/long?sleep=6000`);
  let done = false;
  const seen: number[] = [];
  void slow.finally(() => (done = true));
  while (!done) {
    seen.push(await replicas(gw, 'slow'));
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const answer = await slow;
  assert.equal(answer.status, 200, answer.text);
  assert.equal(answer.json().path, '/long');
  assert.ok(seen.length >= 10, `looked ${seen.length} times`);
  assert.ok(seen.every((n) => n === 1), `went down under a call in flight: ${seen.join(',')}`);
  // Once it has answered, the quiet period starts: it then reaches zero.
  await waitForZero(gw, 'slow');
});
