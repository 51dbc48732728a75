// A rolling update under continuous load: new replicas answer before old ones go, and not
// one request fails meanwhile.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { fixtureImage } from '../helpers/images.js';
import { waitFor } from '../helpers/wait.js';
import { call, deployment } from './client.js';

let gw: TestGateway;
let image: string;

before(async () => {
  image = await fixtureImage('echo');
  gw = await startTestGateway();
});
after(() => gw?.stop());

interface Result {
  status: number;
  version?: string;
  error?: string;
  sentAt: number;
}

test('updates under continuous load fail no request', async () => {
  const spec = (version: string) => deployment(gw, 'rolling', image, { envVars: { VERSION: version }, labels: { 'com.openfaas.scale.min': '2', 'com.openfaas.scale.max': '2' } });
  assert.equal((await call(gw, 'POST', '/system/functions', spec('v1'))).status, 202);
  assert.equal((await call(gw, 'GET', `/system/function/rolling?namespace=${gw.namespace}`)).json().availableReplicas, 2);

  const results: Result[] = [];
  let running = true;
  const worker = async (n: number) => {
    let i = 0;
    while (running) {
      const sentAt = Date.now();
      // Half the calls carry a body (never retried by the gateway), half are GETs.
      const post = (i++ + n) % 2 === 0;
      try {
        const res = await fetch(`${gw.url}/function/rolling.${gw.namespace}/work?sleep=${n % 3 === 0 ? 30 : 0}`, {
          method: post ? 'POST' : 'GET',
          body: post ? 'x'.repeat(2048) : undefined,
        });
        const text = await res.text();
        results.push({ status: res.status, version: res.status === 200 ? JSON.parse(text).version : text, sentAt });
      } catch (err) {
        results.push({ status: 0, error: String((err as Error).cause ?? err), sentAt });
      }
    }
  };
  const workers = Array.from({ length: 8 }, (_, n) => worker(n));
  await waitFor('load to reach the function', async () => results.length > 50);

  for (const version of ['v2', 'v3']) {
    const res = await call(gw, 'PUT', '/system/functions', spec(version));
    assert.equal(res.status, 202, res.text);
    const updatedAt = Date.now();
    await waitFor(`calls answered by ${version}`, async () => results.filter((r) => r.sentAt > updatedAt && r.version === version).length > 100);
    const late = results.filter((r) => r.sentAt > updatedAt && r.status === 200);
    assert.ok(late.every((r) => r.version === version), `every call sent after the update is answered by ${version}`);
  }
  running = false;
  await Promise.all(workers);

  const failed = results.filter((r) => r.status !== 200);
  console.log(`rolling updates: ${results.length} calls, ${failed.length} failed`);
  assert.deepEqual(failed.slice(0, 5), [], `${failed.length} of ${results.length} calls failed`);
  const versions = new Set(results.map((r) => r.version));
  assert.deepEqual([...versions].sort(), ['v1', 'v2', 'v3']);
  const fn = (await call(gw, 'GET', `/system/function/rolling?namespace=${gw.namespace}`)).json();
  assert.equal(fn.replicas, 2);
  assert.deepEqual(fn.envVars, { VERSION: 'v3' });
});
