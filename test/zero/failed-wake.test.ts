// Held calls are bounded and a failed wake says why, quickly: a crash-looping function at
// zero answers 502 with its error line long before the start timeout; an image that is
// gone answers 502 naming it; beyond GITFAAS_WAKE_QUEUE_LIMIT a call is refused 503 at
// once with Retry-After; a held call past the function timeout gets 504.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { fixtureImage } from '../helpers/images.js';
import { call, deployment, invoke } from '../gateway/client.js';
import { removeImage, replicas, tagImage } from './support.js';

let gw: TestGateway;
let echo: string;

before(async () => {
  echo = await fixtureImage('echo');
  gw = await startTestGateway({
    env: { GITFAAS_WAKE_QUEUE_LIMIT: '2', GITFAAS_FUNCTION_TIMEOUT_MS: '4000', GITFAAS_REPLICA_START_TIMEOUT_MS: '30000' },
  });
});
after(() => gw?.stop());

/** Deploys at zero (com.openfaas.scale.min=0): only the parked container exists. */
async function deployAtZero(service: string, image: string, extra: Record<string, unknown> = {}): Promise<void> {
  const res = await call(gw, 'POST', '/system/functions', deployment(gw, service, image, { labels: { 'com.openfaas.scale.min': '0' }, ...extra }));
  assert.equal(res.status, 202, res.text);
  assert.equal(await replicas(gw, service), 0);
}

test('a crash-looping function at zero answers 502 with the reason, well before the start timeout', async () => {
  await deployAtZero('crashy', echo, { envVars: { NODE_OPTIONS: '--require /no/such/module.js' } });
  const t0 = Date.now();
  const answer = await invoke(gw, `crashy.${gw.namespace}`);
  const ms = Date.now() - t0;
  assert.equal(answer.status, 502, answer.text);
  assert.match(answer.text, /^function "crashy\.t-[0-9a-f]+" was waking from zero and could not start: replica of "crashy" exited with code \d+: .*Cannot find module '\/no\/such\/module\.js'/);
  // The start timeout is 30 s: the answer came from the replica's exit, not from waiting it out.
  assert.ok(ms < 15_000, `took ${ms} ms`);
  assert.equal(await replicas(gw, 'crashy'), 0);
  // Again: each call tries again, and fails the same way.
  assert.equal((await invoke(gw, `crashy.${gw.namespace}`)).status, 502);
});

test('an image that is gone answers 502 naming the image', async () => {
  const ref = await tagImage(echo, '127.0.0.1:5000/gitfaas-test/zero-gone', randomBytes(4).toString('hex'));
  try {
    await deployAtZero('vanished', ref);
  } finally {
    await removeImage(ref);
  }
  const answer = await invoke(gw, `vanished.${gw.namespace}`);
  assert.equal(answer.status, 502, answer.text);
  assert.match(answer.text, /was waking from zero and could not start: image "127\.0\.0\.1:5000\/gitfaas-test\/zero-gone:[0-9a-f]+" cannot be used/);
});

test('beyond the wake queue limit: 503 at once; held calls past the function timeout: 504', async () => {
  // Never answers HTTP: the wake outlasts the 4 s function timeout.
  await deployAtZero('mute', await fixtureImage('silent'));
  // Ten at once: two are held (the limit), eight are refused at once, whatever the order.
  const t0 = Date.now();
  const answers = await Promise.all(
    Array.from({ length: 10 }, (_, i) => invoke(gw, `mute.${gw.namespace}/${i}`).then((a) => ({ ...a, ms: Date.now() - t0 }))),
  );
  const refused = answers.filter((a) => a.status === 503);
  const held = answers.filter((a) => a.status === 504);
  assert.equal(refused.length, 8, answers.map((a) => `${a.status} ${a.text}`).join(''));
  assert.equal(held.length, 2, answers.map((a) => `${a.status} ${a.text}`).join(''));
  for (const answer of refused) {
    assert.equal(answer.text, `function "mute.${gw.namespace}" was waking from zero and already holds 2 calls (GITFAAS_WAKE_QUEUE_LIMIT); try again shortly\n`);
    assert.equal(answer.headers.get('retry-after'), '1');
    assert.ok(answer.ms < 3_000, `a refusal waited ${answer.ms} ms`);
  }
  for (const answer of held) {
    assert.equal(answer.text, `function "mute.${gw.namespace}" was waking from zero and had no ready replica within 4 s\n`);
    assert.ok(answer.ms >= 3_900, `answered 504 after ${answer.ms} ms`);
  }
});
