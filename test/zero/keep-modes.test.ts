// GITFAAS_ZERO_KEEP=stopped and removed: what a function at zero leaves on Docker, and that
// a call wakes it from each. A gateway restarted over a stopped function keeps it at zero
// (the parked container beside it says it was kept, not crashed).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { deployAndWait, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { fixtureImage } from '../helpers/images.js';
import { invoke } from '../gateway/client.js';
import { waitFor } from '../helpers/wait.js';
import { containers, events, waitForStates, waitForZero, zeroLabels } from './support.js';

const gateways: TestGateway[] = [];
after(() => Promise.all(gateways.map((g) => g.stop())));

async function gateway(keep: string): Promise<TestGateway> {
  const gw = await startTestGateway({ env: { GITFAAS_ZERO_TICK_MS: '200', GITFAAS_ZERO_KEEP: keep } });
  gateways.push(gw);
  return gw;
}

test('stopped: the replica is stopped at zero and started again by a call', async () => {
  const gw = await gateway('stopped');
  await deployAndWait(gw, { service: 'napper', image: await fixtureImage('echo'), labels: zeroLabels('1s') });
  const id = (await containers(gw, 'napper')).find((c) => c.role === 'replica')!.id;
  await waitForZero(gw, 'napper');
  await waitForStates(gw, 'napper', ['exited']);
  assert.deepEqual((await containers(gw, 'napper')).map((c) => c.role).sort(), ['parked', 'replica']);
  const t0 = Date.now();
  const answer = await invoke(gw, `napper.${gw.namespace}/back`);
  assert.equal(answer.status, 200, answer.text);
  // The same container, started again: no new one was created.
  assert.deepEqual((await containers(gw, 'napper')).filter((c) => c.role === 'replica').map((c) => c.id), [id]);
  // Docker's event times are whole seconds: the deploy's own start may be in the window.
  const all = await events(gw, 'napper', t0 - 1_000, Date.now() + 1_000);
  const actions = all.slice(all.indexOf('stop:replica'));
  assert.equal(actions.filter((a) => a === 'start:replica').length, 1, all.join(', '));
});

test('removed: only the parked container is left at zero; a call creates a replica', async () => {
  const gw = await gateway('removed');
  await deployAndWait(gw, { service: 'gone', image: await fixtureImage('echo'), labels: zeroLabels('1s') });
  await waitForZero(gw, 'gone');
  await waitForStates(gw, 'gone', []);
  assert.deepEqual((await containers(gw, 'gone')).map((c) => `${c.role}:${c.state}`), ['parked:created']);
  const t0 = Date.now();
  const answer = await invoke(gw, `gone.${gw.namespace}/back`);
  assert.equal(answer.status, 200, answer.text);
  // The parked container goes once the replica serves. Docker's events say so: on a loaded
  // machine the function can be back at zero (1 s idle, a new parked container) before a poll
  // of the containers catches the replica running alone (seen once in CI).
  await waitFor('the parked container to go', async () => (await events(gw, 'gone', t0 - 1_000, Date.now() + 1_000)).includes('destroy:parked'));
});
