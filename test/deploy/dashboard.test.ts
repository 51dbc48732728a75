// deploy/grafana and deploy/prometheus: every metric a dashboard panel (or its variables)
// queries is one the code registers, and the scrape configs are valid YAML naming the
// listeners that serve them.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { repoRoot } from '../helpers/repo-root.js';
import { registeredMetricNames } from './metric-names.js';

interface Panel {
  title: string;
  type: string;
  targets?: { expr: string }[];
}

const METRIC = /\b(?:gateway|gitfaas)_[a-z0-9_]+\b/g;

test('every metric the Grafana dashboard queries is registered by the code', async () => {
  const dashboard = JSON.parse(await readFile(path.join(repoRoot(), 'deploy/grafana/gitfaas.json'), 'utf8')) as { panels: Panel[]; templating: { list: { query?: unknown }[] } };
  const names = await registeredMetricNames();
  const queried = new Map<string, string>();
  for (const panel of dashboard.panels) {
    if (panel.type === 'row') continue;
    assert.ok(panel.targets?.length, `panel "${panel.title}" has queries`);
    for (const t of panel.targets!) for (const m of t.expr.match(METRIC) ?? []) queried.set(m, panel.title);
  }
  for (const v of dashboard.templating.list) for (const m of JSON.stringify(v.query ?? '').match(METRIC) ?? []) queried.set(m, 'variables');
  const missing = [...queried].filter(([name]) => !names.has(name)).map(([name, where]) => `${name} (${where})`);
  assert.deepEqual(missing, [], 'metrics queried but never registered');
  // The panels the issue asks for are there.
  const titles = dashboard.panels.map((p) => p.title.toLowerCase()).join('\n');
  for (const want of ['invocation rate', 'errors', 'latency quantiles', 'replicas', 'cold starts', 'build stages', 'push to live']) assert.match(titles, new RegExp(want), `a "${want}" panel`);
  for (const prefix of ['gateway_', 'gitfaas_builder_', 'gitfaas_deployer_', 'gitfaas_queue_worker_']) {
    assert.ok([...queried.keys()].some((n) => n.startsWith(prefix)), `the dashboard shows ${prefix}* metrics`);
  }
});

test('the scrape configs parse and point at the listeners that serve /metrics', async () => {
  const single = parse(await readFile(path.join(repoRoot(), 'deploy/prometheus/single-host.yml'), 'utf8'));
  const gw = single.scrape_configs.find((j: { job_name: string }) => j.job_name === 'gitfaas-gateway');
  assert.deepEqual(gw.static_configs[0].targets, ['127.0.0.1:8080'], 'the gateway\'s default port, on loopback');
  assert.equal(gw.basic_auth.username, 'admin');
  const kube = parse(await readFile(path.join(repoRoot(), 'deploy/prometheus/kubernetes.yml'), 'utf8'));
  const jobs = kube.scrape_configs.map((j: { job_name: string }) => j.job_name);
  assert.deepEqual(jobs, ['gitfaas-gateway', 'gitfaas-services']);
  for (const job of kube.scrape_configs) assert.deepEqual(job.kubernetes_sd_configs[0].namespaces.names, ['gitfaas']);
});
