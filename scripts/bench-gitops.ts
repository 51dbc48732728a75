// Push-to-live benchmark: the time from a signed GitHub push webhook being sent until the
// new version of a one-function node20 repository answers through the gateway, with the
// time of each stage; and the webhook receiver's response time (p50/p99).
//   npm run bench:gitops            (BENCH_RUNS=5 by default)
// Cold: the first push of a new repository whose function has its own package.json, so
// every layer after the base image is built (base images present, as in setup.sh). Warm: a
// one-line change to the handler of a deployed function. Medians of BENCH_RUNS runs.
import { spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { once } from 'node:events';
import path from 'node:path';
import autocannon from 'autocannon';
import { Queue } from 'bullmq';
import { BUILDS_QUEUE, DEPLOYS_QUEUE, DeployJob, buildJobId } from '../shared/jobs.js';
import { pushPayload, signGitHub } from '../test/helpers/github-payloads.js';
import { repoRoot } from '../test/helpers/repo-root.js';
import { nodeHandler, stackYml, startGitOpsStack, type GitOpsRepo, type GitOpsStack } from '../test/helpers/gitops-stack.js';
import { deleteKeys } from '../test/helpers/redis-keys.js';
import { freePort } from '../test/helpers/free-port.js';

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

interface ReceiverResult {
  requests: number;
  non2xx: number;
  p50: number;
  p99: number;
  max: number;
}


/**
 * The receiver alone, as its own process (node dist/services/webhooks/main.js), under load
 * from autocannon in this one: every request is a push of a new commit (fresh sha and
 * signature per request), so each runs the real path: verify, normalise, Redis seq +
 * BullMQ add, 202. Its own queue prefix and no builder attached: nothing is built, and
 * the queue is removed afterwards.
 */
async function receiverLatency(): Promise<ReceiverResult> {
  const prefix = `bench-rx-${randomBytes(4).toString('hex')}`;
  const secret = randomBytes(16).toString('hex');
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(repoRoot(), 'dist/services/webhooks/main.js')], {
    env: { ...process.env, GITFAAS_WEBHOOKS_PORT: String(port), GITFAAS_QUEUE_PREFIX: prefix, GITHUB_WEBHOOK_SECRET: secret, GITFAAS_LOG_LEVEL: 'error' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const rx = {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
  await until('the receiver to listen', async () => ((await fetch(`${rx.url}/healthz`)).ok ? true : undefined), 15_000, 50);
  const repo = { owner: 'Bench', name: 'rx', id: randomInt(1, 2 ** 31), cloneUrl: '/nonexistent.git', defaultBranch: 'main' };
  const PLACEHOLDER = 'f'.repeat(40);
  const template = JSON.stringify(pushPayload(repo, PLACEHOLDER, 'main'));
  try {
    const result = await autocannon({
      url: rx.url,
      connections: Number(process.env.BENCH_RECEIVER_CONNECTIONS ?? 10),
      duration: Number(process.env.BENCH_RECEIVER_SECONDS ?? 10),
      requests: [
        {
          method: 'POST',
          path: '/webhooks/github',
          setupRequest: (req) => {
            const body = template.split(PLACEHOLDER).join(randomBytes(20).toString('hex'));
            return {
              ...req,
              body,
              headers: {
                'content-type': 'application/json',
                'x-github-event': 'push',
                'x-github-delivery': randomBytes(16).toString('hex'),
                'x-hub-signature-256': signGitHub(secret, body),
              },
            };
          },
        },
      ],
    });
    return { requests: result.requests.total, non2xx: result.non2xx, p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max };
  } finally {
    await rx.stop();
    const { Redis } = await import('ioredis');
    const redis = new Redis('redis://127.0.0.1:6379');
    const q = new Queue(BUILDS_QUEUE, { connection: redis, prefix });
    await q.obliterate({ force: true }).catch(() => {});
    await q.close();
    // The seq keys of the bench repository and the per-job seq memos under our prefix.
    await redis.del(`gitfaas:seq:github:${repo.id}:main`, `gitfaas:seq:github:${repo.id}:main:sha`);
    await deleteKeys(redis, [`${prefix}:*`]);
    redis.disconnect();
  }
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
      // A package.json of its own (no dependencies) makes the template's dependency layers
      // miss the cache too, as a function's first build would; only the base image is warm.
      const files = {
        'stack.yml': stackYml({ [fn]: { lang: 'node20', handler: `./${fn}` } }),
        [`${fn}/handler.js`]: nodeHandler(text),
        [`${fn}/package.json`]: `${JSON.stringify({ name: fn, version: '1.0.0', private: true })}\n`,
      };
      cold.push(await pushToLive(stack, deploys, repo, fn, files, text));
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
  const rx = await receiverLatency();
  console.log(`\nreceiver (signed push of a new commit -> job stored in Redis -> 202), autocannon, ${rx.requests} requests:`);
  console.log(`  p50 ${rx.p50} ms, p99 ${rx.p99} ms, max ${rx.max} ms, non-2xx ${rx.non2xx}`);
  console.log(`  goal p99 < ${GOALS.receiverP99Ms} ms: ${rx.p99 < GOALS.receiverP99Ms && rx.non2xx === 0 ? 'met' : 'NOT met'} (p99 / goal = ${(rx.p99 / GOALS.receiverP99Ms).toFixed(2)})`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
