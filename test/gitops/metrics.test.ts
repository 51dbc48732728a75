// The metrics of the build side, end to end: a push is held in the builds queue (the
// builder paused) and seen there, then built and deployed; the builder's and deployer's
// own listeners (GITFAAS_BUILDER_HEALTH_PORT, GITFAAS_DEPLOYER_HEALTH_PORT) then report
// the build and deploy by result, the stage durations and push-to-live, and the gateway's
// /metrics the calls to the new function under OpenFaaS's names.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import type { RunningDeployer } from '../../services/deployer/service.js';
import { BUILDS_QUEUE, DEPLOYS_QUEUE } from '../../shared/jobs.js';
import { nodeHandler, stackYml, startGitOpsStack, type GitOpsStack } from '../helpers/gitops-stack.js';
import { registeredMetricNames } from '../deploy/metric-names.js';
import { deleteStreams, uniqueAsyncEnv } from '../async/support.js';
import { testInstance } from '../helpers/gateway.js';
import { metricFamilies, sampleValue, scrape } from '../helpers/prom-text.js';
import { deleteKeys } from '../helpers/redis-keys.js';
import { repoRoot } from '../helpers/repo-root.js';
import { waitFor } from '../helpers/wait.js';

describe('metrics of a push, from the queue to the live function', () => {
  let stack: GitOpsStack;
  let builderUrl: string;
  let deployerUrl: string;

  before(async () => {
    stack = await startGitOpsStack({ env: { GITFAAS_BUILDER_HEALTH_PORT: '0', GITFAAS_DEPLOYER_HEALTH_PORT: '0' } });
    builderUrl = stack.builder.healthUrl!;
    deployerUrl = (stack.deployer as RunningDeployer).healthUrl!;
  });
  after(async () => {
    await stack?.stop();
  });

  test('queue depth while the builder is paused; builds, deploys, stages and push-to-live once it ran; the calls at the gateway', async () => {
    assert.ok(builderUrl && deployerUrl, 'both services serve a health and metrics listener');
    assert.equal((await fetch(`${builderUrl}/healthz`)).status, 200);
    assert.equal((await fetch(`${deployerUrl}/healthz`)).status, 200);

    const repo = await stack.newRepo('metered');
    const sha = await repo.commit({ 'stack.yml': stackYml({ meter: { lang: 'node20', handler: './meter' } }), 'meter/handler.js': nodeHandler('metered v1') });
    // Paused, the builder takes no job: the push waits in the builds queue, where it is seen.
    await stack.builder.worker.pause();
    const pushed = await repo.push(sha);
    assert.equal(pushed.status, 202, pushed.text);
    const waiting = await waitFor('the push to wait in the builds queue, with an age', async () => {
      const s = await scrape(`${builderUrl}/metrics`);
      const age = sampleValue(s, 'gitfaas_builder_queue_oldest_waiting_seconds', { queue: BUILDS_QUEUE }) ?? 0;
      return sampleValue(s, 'gitfaas_builder_queue_jobs', { queue: BUILDS_QUEUE, state: 'waiting' }) === 1 && age > 0 ? s : undefined;
    }, 30_000, 200);
    assert.equal(sampleValue(waiting, 'gitfaas_builder_builds_total', { result: 'deploying' }), undefined, 'nothing built yet');
    stack.builder.worker.resume();

    const status = await stack.settled(sha);
    assert.equal(status.state, 'success', status.description);
    assert.deepEqual(await stack.call('meter'), { status: 200, text: 'metered v1' });

    const builder = await waitFor('the build counted', async () => {
      const s = await scrape(`${builderUrl}/metrics`);
      return sampleValue(s, 'gitfaas_builder_builds_total', { result: 'deploying' }) === 1 ? s : undefined;
    }, 30_000, 200);
    assert.equal(sampleValue(builder, 'gitfaas_builder_builds_total', { result: 'failed' }), undefined);
    for (const stage of ['clone', 'build', 'push']) {
      assert.equal(sampleValue(builder, 'gitfaas_builder_stage_seconds_count', { stage }), 1, `one ${stage} stage observed`);
      assert.ok(sampleValue(builder, 'gitfaas_builder_stage_seconds_sum', { stage })! >= 0);
      assert.equal(sampleValue(builder, 'gitfaas_builder_stage_seconds_bucket', { stage, le: '+Inf' }), 1);
    }
    assert.ok(sampleValue(builder, 'gitfaas_builder_stage_seconds_sum', { stage: 'build' })! > 0, 'a BuildKit build takes time');
    assert.equal(sampleValue(builder, 'gitfaas_builder_queue_jobs', { queue: BUILDS_QUEUE, state: 'waiting' }), 0);
    assert.equal(sampleValue(builder, 'gitfaas_builder_queue_oldest_waiting_seconds', { queue: BUILDS_QUEUE }), 0);
    assert.equal(sampleValue(builder, 'gitfaas_builder_queue_jobs', { queue: BUILDS_QUEUE, state: 'completed' }), 1);

    const deployer = await waitFor('the deploy counted', async () => {
      const s = await scrape(`${deployerUrl}/metrics`);
      return sampleValue(s, 'gitfaas_deployer_deploys_total', { result: 'deployed' }) === 1 ? s : undefined;
    }, 30_000, 200);
    assert.equal(sampleValue(deployer, 'gitfaas_deployer_stage_seconds_count', { stage: 'deploy' }), 1);
    assert.equal(sampleValue(deployer, 'gitfaas_deployer_push_to_live_seconds_count'), 1);
    const deploySeconds = sampleValue(deployer, 'gitfaas_deployer_stage_seconds_sum', { stage: 'deploy' })!;
    const buildSeconds = ['clone', 'build', 'push'].reduce((sum, stage) => sum + sampleValue(builder, 'gitfaas_builder_stage_seconds_sum', { stage })!, 0);
    const pushToLive = sampleValue(deployer, 'gitfaas_deployer_push_to_live_seconds_sum')!;
    // Push-to-live holds the time queued (paused builder) and every stage.
    const queued = sampleValue(waiting, 'gitfaas_builder_queue_oldest_waiting_seconds', { queue: BUILDS_QUEUE })!;
    assert.ok(pushToLive >= deploySeconds + buildSeconds + queued - 0.5, `push-to-live ${pushToLive} s covers queued ${queued} + build ${buildSeconds} + deploy ${deploySeconds}`);
    assert.equal(sampleValue(deployer, 'gitfaas_deployer_queue_jobs', { queue: DEPLOYS_QUEUE, state: 'completed' }), 1);

    // The receiver, run alone here: its own /metrics, behind the admin credentials.
    assert.equal((await fetch(`${stack.webhooks.url}/metrics`)).status, 401);
    const webhooks = await scrape(`${stack.webhooks.url}/metrics`, { authorization: stack.gateway.authHeader });
    assert.equal(sampleValue(webhooks, 'gitfaas_webhooks_deliveries_total', { host: 'github', code: '202' }), 1);

    // The gateway: OpenFaaS's names for the calls made (the deployer's readiness calls count too, hence the difference).
    const fn = `meter.${stack.namespace}`;
    const scrapeGateway = () => scrape(`${stack.gateway.url}/metrics`, { authorization: stack.gateway.authHeader });
    const before = await scrapeGateway();
    for (let i = 0; i < 3; i++) assert.equal((await stack.call('meter')).status, 200);
    const gateway = await scrapeGateway();
    const grew = (name: string) => sampleValue(gateway, name, { function_name: fn, code: '200' })! - sampleValue(before, name, { function_name: fn, code: '200' })!;
    assert.equal(grew('gateway_function_invocation_total'), 3);
    assert.equal(grew('gateway_functions_seconds_count'), 3);
    assert.equal(sampleValue(gateway, 'gateway_service_count', { function_name: fn }), 1);
    assert.equal(sampleValue(gateway, 'gateway_service_ready_count', { function_name: fn }), 1);
  });

  test('an admin redeploy is a deploy, not a push: push-to-live leaves it out', async () => {
    const res = await stack.admin('POST', '/system/builds/redeploy', { repository: `${stack.owner}/metered` });
    assert.equal(res.status, 202, res.text);
    const deployer = await waitFor('the redeploy counted', async () => {
      const s = await scrape(`${deployerUrl}/metrics`);
      return sampleValue(s, 'gitfaas_deployer_deploys_total', { result: 'deployed' }) === 2 ? s : undefined;
    }, 120_000, 200);
    assert.equal(sampleValue(deployer, 'gitfaas_deployer_stage_seconds_count', { stage: 'deploy' }), 2);
    assert.equal(sampleValue(deployer, 'gitfaas_deployer_push_to_live_seconds_count'), 1);
  });

  test('a build that fails is counted as failed, with no stage observed and no deploy', async () => {
    const before = await scrape(`${builderUrl}/metrics`);
    const repo = await stack.newRepo('broken');
    const sha = await repo.commit({ 'stack.yml': 'version: 1.0\nfunctions:\n  hello: {lang: node20, handler: ./hello\n  other: x\n' });
    assert.equal((await repo.push(sha)).status, 202);
    assert.equal((await stack.settled(sha)).state, 'failure');
    const after = await waitFor('the failed build counted', async () => {
      const s = await scrape(`${builderUrl}/metrics`);
      return sampleValue(s, 'gitfaas_builder_builds_total', { result: 'failed' }) === 1 ? s : undefined;
    }, 30_000, 200);
    for (const stage of ['clone', 'build', 'push']) {
      assert.equal(sampleValue(after, 'gitfaas_builder_stage_seconds_count', { stage }), sampleValue(before, 'gitfaas_builder_stage_seconds_count', { stage }), `no ${stage} stage observed for a failed build`);
    }
    assert.equal(sampleValue(after, 'gitfaas_builder_queue_jobs', { queue: BUILDS_QUEUE, state: 'failed' }), 1);
    const deployer = await scrape(`${deployerUrl}/metrics`);
    assert.equal(sampleValue(deployer, 'gitfaas_deployer_deploys_total', { result: 'deployed' }), 2, 'no deploy for it');
    assert.equal(sampleValue(deployer, 'gitfaas_deployer_push_to_live_seconds_count'), 1);
  });
});

test('every service\'s metrics fit in one registry (the single process of services/main.ts) without a clash', async () => {
  // prom-client refuses a name registered twice, so this fails on any clash.
  const names = await registeredMetricNames();
  for (const prefix of ['gitfaas_builder_', 'gitfaas_deployer_', 'gitfaas_queue_worker_', 'gitfaas_webhooks_', 'gateway_', 'process_']) {
    assert.ok([...names].some((n) => n.startsWith(prefix)), `${prefix}* present`);
  }
});

test('all in one process (dist/services/main.js), the gateway\'s /metrics serves every service\'s metrics, each family once', async () => {
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'gitfaas-main-metrics-'));
  const prefix = `t-main-${randomBytes(4).toString('hex')}`;
  const asyncEnv = uniqueAsyncEnv();
  const child = spawn(process.execPath, [path.join(repoRoot(), 'dist/services/main.js')], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      ...asyncEnv,
      GITFAAS_STATE_DIR: stateDir,
      GITFAAS_ADMIN_PASSWORD: 'pw',
      GITFAAS_GATEWAY_PORT: '0',
      GITFAAS_WEBHOOKS_PORT: '0',
      GITFAAS_INSTANCE: testInstance(),
      GITFAAS_QUEUE_PREFIX: prefix,
      GITFAAS_RECONCILE: 'false',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    let gatewayUrl: string | undefined;
    const running = new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        const entry = JSON.parse(line) as { msg: string; service?: string; url?: string };
        if (entry.service === 'gateway' && entry.msg === 'gateway listening') gatewayUrl = entry.url;
        if (entry.msg === 'all services running') resolve();
      });
      void exited.then((code) => reject(new Error(`main.js exited (${code}) before it ran: ${stderr}`)));
    });
    await Promise.race([running, new Promise((_, reject) => setTimeout(() => reject(new Error('main.js did not start within 60 s')), 60_000))]);
    assert.ok(gatewayUrl);
    const res = await fetch(`${gatewayUrl}/metrics`, { headers: { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` } });
    assert.equal(res.status, 200);
    const text = await res.text();
    const families = metricFamilies(text);
    assert.equal(new Set(families).size, families.length, 'no family twice');
    for (const name of ['gateway_function_invocation_total', 'gitfaas_webhooks_deliveries_total', 'gitfaas_builder_builds_total', 'gitfaas_builder_queue_jobs', 'gitfaas_deployer_push_to_live_seconds', 'gitfaas_deployer_queue_jobs', 'gitfaas_queue_worker_consumer_pending', 'process_cpu_user_seconds_total']) {
      assert.ok(families.includes(name), `${name} is served`);
    }
    // The queues and JetStream were really read: this run's (empty) queues and its consumers.
    const samples = await scrape(`${gatewayUrl}/metrics`, { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` });
    assert.equal(sampleValue(samples, 'gitfaas_builder_queue_jobs', { queue: BUILDS_QUEUE, state: 'waiting' }), 0);
    assert.equal(sampleValue(samples, 'gitfaas_queue_worker_consumer_pending', { consumer: asyncEnv.GITFAAS_ASYNC_CONSUMER }), 0);
  } finally {
    child.kill('SIGTERM');
    assert.equal(await exited, 0, `main.js stops cleanly: ${stderr}`);
    await deleteStreams({ stream: asyncEnv.GITFAAS_ASYNC_STREAM, deadStream: asyncEnv.GITFAAS_ASYNC_DEAD_STREAM });
    const redis = new Redis('redis://127.0.0.1:6379');
    await deleteKeys(redis, [`${prefix}:*`]);
    redis.disconnect();
    await rm(stateDir, { recursive: true, force: true });
  }
});
