// The gateway's /metrics in OpenFaaS's names and labels, after known traffic through the
// real proxy to a real function container.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { fixtureImage } from '../helpers/images.js';
import { repoRoot } from '../helpers/repo-root.js';
import { waitFor } from '../helpers/wait.js';
import { call, deployment, invoke } from './client.js';

let gw: TestGateway;
let image: string;

before(async () => {
  image = await fixtureImage('echo');
  gw = await startTestGateway();
});
after(() => gw?.stop());

/** Every sample of `name` whose labels include all of `labels`, from Prometheus text. */
function samples(text: string, name: string, labels: Record<string, string> = {}): { labels: Record<string, string>; value: number }[] {
  const out: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) got[k] = v;
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) out.push({ labels: got, value: Number(m[3]) });
  }
  return out;
}

/** The one sample of `name` with exactly these labels (plus none other than those given). */
function value(text: string, name: string, labels: Record<string, string>): number | undefined {
  const found = samples(text, name, labels).filter((s) => Object.keys(s.labels).length === Object.keys(labels).length);
  assert.ok(found.length <= 1, `${name} ${JSON.stringify(labels)} appears ${found.length} times`);
  return found[0]?.value;
}

const scrape = async () => {
  const res = await call(gw, 'GET', '/metrics');
  assert.equal(res.status, 200, res.text);
  return res.text;
};

describe('OpenFaaS gateway metrics', () => {
  test('7 calls, 2 of them 5xx: counts per code, started 7, histogram count 7, in flight back to 0, service gauges', async () => {
    const labels = { 'com.openfaas.scale.type': 'capacity', 'com.openfaas.scale.target': '30' };
    assert.equal((await call(gw, 'POST', '/system/functions', deployment(gw, 'metered', image, { labels }))).status, 202);
    // Waits on the function's status, not by calling it, so the counts below are exactly ours.
    await waitFor('metered to have a ready replica', async () => (await call(gw, 'GET', `/system/function/metered?namespace=${gw.namespace}`)).json().availableReplicas === 1, 60_000);
    const fn = `metered.${gw.namespace}`;
    const function_name = fn;

    // One slow call held open: in flight is 1 while it runs.
    const slow = invoke(gw, `${fn}?sleep=600`);
    const during = await waitFor('the slow call to be in flight', async () => {
      const text = await scrape();
      return value(text, 'gateway_function_invocation_inflight', { function_name }) === 1 && text;
    }, 10_000, 20);
    assert.equal(value(during, 'gateway_function_invocation_started', { function_name }), 1);
    assert.equal((await slow).status, 200);

    for (let i = 0; i < 4; i++) assert.equal((await invoke(gw, fn)).status, 200);
    for (let i = 0; i < 2; i++) assert.equal((await invoke(gw, `${fn}?status=500`)).status, 500);

    const text = await scrape();
    assert.equal(value(text, 'gateway_function_invocation_total', { function_name, code: '200' }), 5);
    assert.equal(value(text, 'gateway_function_invocation_total', { function_name, code: '500' }), 2);
    assert.equal(value(text, 'gateway_function_invocation_started', { function_name }), 7);
    assert.equal(value(text, 'gateway_function_invocation_inflight', { function_name }), 0);
    const count200 = value(text, 'gateway_functions_seconds_count', { function_name, code: '200' });
    const count500 = value(text, 'gateway_functions_seconds_count', { function_name, code: '500' });
    assert.equal(count200! + count500!, 7);
    assert.equal(count500, 2);
    assert.equal(value(text, 'gateway_functions_seconds_bucket', { function_name, code: '200', le: '+Inf' }), 5);
    // The 600 ms call is above the 0.5 s bucket; the sum counts it.
    assert.ok(value(text, 'gateway_functions_seconds_bucket', { function_name, code: '200', le: '0.5' })! <= 4);
    assert.ok(value(text, 'gateway_functions_seconds_sum', { function_name, code: '200' })! >= 0.6);
    const buckets = samples(text, 'gateway_functions_seconds_bucket', { function_name, code: '200' }).map((s) => s.value);
    assert.equal(buckets.length, 12, 'eleven bounds and +Inf');
    assert.deepEqual(buckets, [...buckets].sort((a, b) => a - b), 'buckets are cumulative');
    assert.match(text, /# TYPE gateway_functions_seconds histogram/);

    assert.equal(value(text, 'gateway_service_count', { function_name }), 1);
    assert.equal(value(text, 'gateway_service_ready_count', { function_name }), 1);
    assert.equal(value(text, 'gateway_service_min', { function_name }), 1);
    assert.equal(value(text, 'gateway_service_target_load', { function_name, scaling_type: 'capacity' }), 30);

    // Scaled to 0: desired and ready follow; a call there is started, held while the function wakes, and answered.
    assert.equal((await call(gw, 'POST', `/system/scale-function/metered?namespace=${gw.namespace}`, { serviceName: 'metered', namespace: gw.namespace, replicas: 0 })).status, 202);
    await waitFor('metered to have no replica', async () => (await call(gw, 'GET', `/system/function/metered?namespace=${gw.namespace}`)).json().availableReplicas === 0, 60_000);
    const scaled0 = await scrape();
    assert.equal(value(scaled0, 'gateway_service_count', { function_name }), 0);
    assert.equal(value(scaled0, 'gateway_service_ready_count', { function_name }), 0);
    assert.equal((await invoke(gw, fn)).status, 200);
    const scaled = await scrape();
    assert.equal(value(scaled, 'gateway_service_count', { function_name }), 1);
    assert.equal(value(scaled, 'gateway_function_invocation_total', { function_name, code: '200' }), 6);
    assert.equal(value(scaled, 'gateway_function_invocation_started', { function_name }), 8);
    assert.equal(value(scaled, 'gateway_function_invocation_inflight', { function_name }), 0);
  });

  test('a client that goes away mid-call leaves nothing in flight and is counted as 499', async () => {
    assert.equal((await call(gw, 'POST', '/system/functions', deployment(gw, 'abandoned', image))).status, 202);
    await waitFor('abandoned to have a ready replica', async () => (await call(gw, 'GET', `/system/function/abandoned?namespace=${gw.namespace}`)).json().availableReplicas === 1, 60_000);
    const function_name = `abandoned.${gw.namespace}`;
    const controller = new AbortController();
    const call1 = fetch(`${gw.url}/function/${function_name}?sleep=5000`, { signal: controller.signal }).catch((err: Error) => err);
    await waitFor('the call to be in flight', async () => value(await scrape(), 'gateway_function_invocation_inflight', { function_name }) === 1, 10_000, 20);
    controller.abort();
    assert.ok((await call1) instanceof Error);
    const text = await waitFor('the abandoned call to end', async () => {
      const t = await scrape();
      return value(t, 'gateway_function_invocation_inflight', { function_name }) === 0 && t;
    }, 10_000, 20);
    assert.equal(value(text, 'gateway_function_invocation_total', { function_name, code: '499' }), 1);
    assert.equal(value(text, 'gateway_function_invocation_started', { function_name }), 1);
  });

  test('an unknown function is not counted (no label for every name a client makes up)', async () => {
    assert.equal((await invoke(gw, `nobody-${gw.namespace}.${gw.namespace}`)).status, 404);
    assert.equal(samples(await scrape(), 'gateway_function_invocation_started', { function_name: `nobody-${gw.namespace}.${gw.namespace}` }).length, 0);
  });

  test('the Grafana dashboard in deploy/ queries only metrics the gateway serves', async () => {
    const dashboard = await readFile(path.join(repoRoot(), 'deploy/grafana/gitfaas.json'), 'utf8');
    const used = new Set(dashboard.match(/gateway_[a-z_]+/g));
    assert.ok(used.size >= 6, `the dashboard uses ${[...used].join(', ')}`);
    const text = await scrape();
    for (const name of used) assert.match(text, new RegExp(`^${name}[{ ]`, 'm'), `${name} is not served at /metrics`);
  });
});
