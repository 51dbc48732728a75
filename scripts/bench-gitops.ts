// Push-to-live benchmark: the time from a signed GitHub push webhook being sent until the
// new version of a one-function node20 repository answers through the gateway, with the
// time of each stage; and the webhook receiver's response time (p50/p99).
//   npm run bench:gitops            (BENCH_RUNS=5 by default)
// Cold: the first push of a new repository (base images present in the registry; BuildKit
// may reuse template layers other builds on this machine left in its cache). Warm: a
// one-line change to the handler of a deployed function. Medians of BENCH_RUNS runs.
import { randomBytes, randomInt } from 'node:crypto';
import { Queue } from 'bullmq';
import { loadWebhooksConfig } from '../services/webhooks/config.js';
import { startWebhooks } from '../services/webhooks/service.js';
import { BUILDS_QUEUE, DEPLOYS_QUEUE, DeployJob, buildJobId } from '../shared/jobs.js';
import { silentLogger } from '../shared/logger.js';
import { deliverGitHub, pushPayload } from '../test/helpers/github-payloads.js';
import { nodeHandler, stackYml, startGitOpsStack, type GitOpsRepo, type GitOpsStack } from '../test/helpers/gitops-stack.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const GOALS = { warmMs: 5000, coldMs: 30000, receiverP99Ms: 100 };

interface Run {
  total: number;
  accepted: number;
  stages: Record<string, number>;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];
const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 300_000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch((err: { fatal?: boolean }) => {
      if (err?.fatal) throw err;
      return undefined;
    });
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** One push: commit, deliver, wait until the function answers `text`; stage times from statuses and the deploy job. */
async function pushToLive(stack: GitOpsStack, deploys: Queue, repo: GitOpsRepo, fn: string, files: Record<string, string>, text: string): Promise<Run> {
  const sha = await repo.commit(files);
  const t0 = performance.now();
  const wall0 = Date.now();
  const res = await repo.push(sha);
  if (res.status !== 202) throw new Error(`push not accepted: ${res.status} ${res.text}`);
  const accepted = performance.now() - t0;
  await until(`${fn} to answer "${text}"`, async () => {
    const r = await stack.call(fn);
    if (r.text === text) return true;
    const failed = stack.github.statusesFor(sha, 'gitfaas').find((s) => s.state === 'failure');
    if (failed) throw Object.assign(new Error(`build failed: ${failed.description}`), { fatal: true });
    return undefined;
  });
  const total = performance.now() - t0;
  const at = (pred: (d: string) => boolean) => stack.github.statusesFor(sha, 'gitfaas').find((s) => pred(s.description ?? ''))?.at;
  const stages: Record<string, number> = { accepted };
  const firstBuilderStatus = at(() => true);
  if (firstBuilderStatus) stages['queue wait (to first status)'] = firstBuilderStatus - wall0;
  const job = await deploys.getJob(`deploy-${buildJobId({ scm: 'github', repoId: repo.payloadRepo.id, sha }, 'push')}`);
  if (job) {
    const data = DeployJob.parse(job.data);
    for (const [stage, s] of Object.entries(data.stages)) stages[stage] = s * 1000;
    stages['deploy (queued to live)'] = wall0 + total - job.timestamp;
  }
  return { total, accepted, stages };
}

function report(label: string, runs: Run[], goalMs: number): void {
  const totals = runs.map((r) => r.total);
  const m = median(totals);
  console.log(`\n${label}: median ${fmt(m)} over ${runs.length} runs (${totals.map(fmt).join(', ')})`);
  console.log(`  goal ${fmt(goalMs)}: ${m <= goalMs ? 'met' : 'NOT met'} (median / goal = ${(m / goalMs).toFixed(2)})`);
  const stageNames = [...new Set(runs.flatMap((r) => Object.keys(r.stages)))];
  for (const stage of stageNames) {
    const xs = runs.map((r) => r.stages[stage]).filter((x): x is number => x !== undefined);
    console.log(`  ${stage.padEnd(30)} median ${fmt(median(xs))}`);
  }
}

async function receiverLatency(): Promise<number[]> {
  // A receiver of its own with no builder attached: every request runs the real path
  // (verify, normalise, Redis seq + BullMQ add) for a new commit, and nothing is built.
  const prefix = `bench-rx-${randomBytes(4).toString('hex')}`;
  const secret = randomBytes(16).toString('hex');
  const rx = await startWebhooks(
    loadWebhooksConfig({ GITFAAS_WEBHOOKS_PORT: '0', GITFAAS_QUEUE_PREFIX: prefix, GITHUB_WEBHOOK_SECRET: secret, GITFAAS_LOG_LEVEL: 'silent' }),
    silentLogger(),
  );
  const repo = { owner: 'Bench', name: 'rx', id: randomInt(1, 2 ** 31), cloneUrl: '/nonexistent.git', defaultBranch: 'main' };
  const latencies: number[] = [];
  const total = Number(process.env.BENCH_RECEIVER_REQUESTS ?? 2000);
  const concurrency = 10;
  let next = 0;
  try {
    // Warm up connections and JIT before measuring.
    for (let i = 0; i < 50; i++) await deliverGitHub(rx.url, 'push', pushPayload(repo, randomBytes(20).toString('hex'), 'main'), secret);
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < total) {
          next++;
          const r = await deliverGitHub(rx.url, 'push', pushPayload(repo, randomBytes(20).toString('hex'), 'main'), secret);
          if (r.status !== 202) throw new Error(`receiver answered ${r.status}: ${r.text}`);
          latencies.push(r.ms);
        }
      }),
    );
  } finally {
    await rx.stop();
    const { Redis } = await import('ioredis');
    const redis = new Redis('redis://127.0.0.1:6379');
    const q = new Queue(BUILDS_QUEUE, { connection: redis, prefix });
    await q.obliterate({ force: true }).catch(() => {});
    await q.close();
    redis.disconnect();
  }
  return latencies;
}

async function main(): Promise<void> {
  console.log(`gitfaas push-to-live benchmark (${RUNS} runs each)`);
  const stack = await startGitOpsStack({ readyTimeoutMs: 120_000 });
  const deploys = new Queue(DEPLOYS_QUEUE, { connection: stack.redis, prefix: stack.prefix });
  try {
    const cold: Run[] = [];
    const repos: { repo: GitOpsRepo; fn: string }[] = [];
    for (let i = 0; i < RUNS; i++) {
      const repo = await stack.newRepo(`bench${i}`);
      const fn = `bench-${randomBytes(3).toString('hex')}`;
      const text = `cold ${i} ${randomBytes(4).toString('hex')}`;
      cold.push(await pushToLive(stack, deploys, repo, fn, { 'stack.yml': stackYml({ [fn]: { lang: 'node20', handler: `./${fn}` } }), [`${fn}/handler.js`]: nodeHandler(text) }, text));
      repos.push({ repo, fn });
      console.log(`  cold run ${i + 1}: ${fmt(cold.at(-1)!.total)}`);
    }
    const warm: Run[] = [];
    const { repo, fn } = repos[0];
    for (let i = 0; i < RUNS; i++) {
      const text = `warm ${i} ${randomBytes(4).toString('hex')}`;
      warm.push(await pushToLive(stack, deploys, repo, fn, { [`${fn}/handler.js`]: nodeHandler(text) }, text));
      console.log(`  warm run ${i + 1}: ${fmt(warm.at(-1)!.total)}`);
    }
    report('cold push-to-live (new repository)', cold, GOALS.coldMs);
    report('warm push-to-live (one-line change)', warm, GOALS.warmMs);
  } finally {
    await deploys.close();
    await stack.stop();
  }
  const latencies = await receiverLatency();
  const p50 = pct(latencies, 50);
  const p99 = pct(latencies, 99);
  console.log(`\nreceiver (signed push -> job stored in Redis -> 202), ${latencies.length} requests, 10 concurrent:`);
  console.log(`  p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms`);
  console.log(`  goal p99 < ${GOALS.receiverP99Ms} ms: ${p99 < GOALS.receiverP99Ms ? 'met' : 'NOT met'} (p99 / goal = ${(p99 / GOALS.receiverP99Ms).toFixed(2)})`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
