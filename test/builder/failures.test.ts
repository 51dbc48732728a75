// Every way a build can fail ends in failed statuses with the reason and a link to a
// build log that shows it; nothing is deployed. Real repositories, real BuildKit.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildJobId } from '../../shared/jobs.js';
import { AGGREGATE_CONTEXT } from '../../shared/status.js';
import { nextSeq } from '../../shared/supersede.js';
import Docker from 'dockerode';
import { EngineImageBuilder, type ImageBuilder } from '../../services/builder/engine-build.js';
import { BuilderHarness, LOCAL_DEBIAN_IMAGE } from './harness.js';

const h = new BuilderHarness();
const fn = (name: string) => `${AGGREGATE_CONTEXT}/${name}`;

before(async () => {
  await h.start();
  await h.startBuilder();
});
after(() => h.stop());

test('a build error (pip in an image without it) fails the function; the log link shows the error', async () => {
  const repo = await h.repo('pip');
  const sha = await repo.commit({
    'stack.yml': 'functions:\n  py:\n    lang: python3-http\n    handler: py\n',
    'py/handler.py': 'def handle(event, context):\n    return {"body": "never"}\n',
    // The run's id keeps BuildKit from replaying an earlier run's failure from its cache.
    'py/requirements.txt': `# run ${h.runId}\nrequests==2.32.3\n`,
  });
  const source = h.source(repo, sha);
  const { state, job } = await h.finished(await h.enqueue(source));
  assert.equal(state, 'failed');
  assert.equal(job.attemptsMade, 1);
  const status = h.reporter.last(sha, fn('py'))!;
  assert.equal(status.state, 'failure');
  // The cause first (the failing step's own words), then the step.
  assert.match(status.description, /^build failed: .*No module named pip \(RUN if grep .*exited with code 1\)$/);
  const aggregate = h.reporter.last(sha, AGGREGATE_CONTEXT)!;
  assert.equal(aggregate.state, 'failure');
  assert.match(aggregate.description, /^py: build failed/);
  assert.equal(aggregate.targetUrl, status.targetUrl);
  assert.match(aggregate.details!.text!, /No module named pip/, 'the check output holds the tail of the build log');
  assert.match(aggregate.details!.summary, /clone: \d+\.\d s, build: \d+\.\d s/);
  const log = await h.log(status.targetUrl!);
  assert.match(log, /installing pip requirements/);
  assert.match(log, /No module named pip/);
  assert.match(log, /build failed\n$/);
  assert.equal(await h.deployJob(source), undefined);
});

test('a job whose payload is not a BuildJob fails at once, without retry, saying why', async () => {
  const job = await h.builds.add('build', { kind: 'push', source: { scm: 'github' } } as never, { jobId: `bad-${h.runId}`, attempts: 3 });
  const { state, job: done } = await h.finished(job.id!);
  assert.equal(state, 'failed');
  assert.equal(done.attemptsMade, 1, 'UnrecoverableError: no retry');
  assert.match(done.failedReason, /^invalid build job bad-[0-9a-f]+: source\.owner: /);
});

test('an unknown lang fails naming it and the available templates', async () => {
  const repo = await h.repo('lang');
  const sha = await repo.commit({
    'stack.yml': 'functions:\n  rb:\n    lang: ruby\n    handler: rb\n  ok:\n    lang: node20\n    handler: ok\n',
    'rb/handler.rb': 'puts 1\n',
    'ok/handler.js': 'module.exports = async () => "ok";\n',
  });
  const source = h.source(repo, sha);
  const { state } = await h.finished(await h.enqueue(source));
  assert.equal(state, 'failed');
  const rb = h.reporter.last(sha, fn('rb'))!;
  assert.equal(rb.state, 'failure');
  assert.equal(rb.description, 'lang: unknown lang "ruby": available templates are dockerfile, node20, python3-http');
  assert.equal(h.reporter.last(sha, fn('ok'))!.description, 'not built: other functions in stack.yml have problems');
  assert.match(h.reporter.last(sha, AGGREGATE_CONTEXT)!.description, /^1 problem in stack\.yml: functions\.rb\.lang: unknown lang "ruby"/);
  assert.equal(h.reporter.for(sha).filter((u) => u.description === 'building').length, 0, 'nothing was built');
});

test('a broken stack.yml fails with every problem listed in the log and the check output', async () => {
  const repo = await h.repo('broken');
  const sha = await repo.commit({
    'stack.yml': 'functions:\n  a:\n    lang: node20\n    handler: ../outside\n    colour: blue\n  b:\n    handler: b\n',
  });
  const { state } = await h.finished(await h.enqueue(h.source(repo, sha)));
  assert.equal(state, 'failed');
  const aggregate = h.reporter.last(sha, AGGREGATE_CONTEXT)!;
  assert.equal(aggregate.state, 'failure');
  assert.match(aggregate.description, /^stack\.yml has 3 problems: .* \(\+2 more\)$/);
  const log = await h.log(aggregate.targetUrl!);
  for (const re of [/functions\.a\.colour: unknown field/, /functions\.b\.lang: is required/, /functions\.a\.handler: "\.\.\/outside" must stay inside/]) {
    assert.match(log, re);
    assert.match(aggregate.details!.summary, re);
  }
});

test('a handler symlinked out of the repository is refused', async () => {
  const repo = await h.repo('symlink');
  const sha = await repo.commit({
    'stack.yml': 'functions:\n  leak:\n    lang: dockerfile\n    handler: leak\n',
    leak: { symlink: '/etc' },
  });
  const { state } = await h.finished(await h.enqueue(h.source(repo, sha)));
  assert.equal(state, 'failed');
  assert.equal(h.reporter.last(sha, fn('leak'))!.description, 'handler: "leak" resolves outside the repository through a symlink');
});

test('a clone error is reported with the reason, never swallowed', async () => {
  const repo = await h.repo('clone');
  await repo.commit({ 'stack.yml': 'functions: {}\n' });
  const missing = 'e'.repeat(40);
  const { state } = await h.finished(await h.enqueue(h.source(repo, missing)));
  assert.equal(state, 'failed');
  const aggregate = h.reporter.last(missing, AGGREGATE_CONTEXT)!;
  assert.equal(aggregate.state, 'failure');
  assert.match(aggregate.description, /^clone of http:\/\/127\.0\.0\.1:\d+\/.* at eeeeeee failed: /);
  assert.match(await h.log(aggregate.targetUrl!), /FAILED: clone of/);
});

test('a job superseded before it starts stops with "superseded by <sha7>" and clones nothing', async () => {
  const repo = await h.repo('superseded');
  const older = await repo.commit({ 'stack.yml': 'functions:\n  a: { lang: node20, handler: a }\n', 'a/handler.js': 'module.exports = async () => 1;\n' });
  const olderSource = h.source(repo, older);
  const olderSeq = await nextSeq(h.redis, h.prefix, olderSource);
  const newer = await repo.commit({ 'a/handler.js': 'module.exports = async () => 2;\n' });
  await nextSeq(h.redis, h.prefix, h.source(repo, newer));
  const { state } = await h.finished(await h.enqueue(olderSource, 'push', { seq: olderSeq }));
  assert.equal(state, 'completed');
  const aggregate = h.reporter.last(older, AGGREGATE_CONTEXT)!;
  assert.equal(aggregate.state, 'cancelled');
  assert.equal(aggregate.description, `superseded by ${newer.slice(0, 7)}`);
  assert.doesNotMatch(await h.log(aggregate.targetUrl!), /cloning/);
  assert.equal(await h.deployJob(olderSource), undefined);
});

test('a job superseded while it builds is not deployed, and its statuses say by which commit', async () => {
  const repo = await h.repo('superseded-late');
  const older = await repo.commit({
    'stack.yml': 'functions:\n  a: { lang: dockerfile, handler: a }\n',
    'a/Dockerfile': `FROM ${LOCAL_DEBIAN_IMAGE}\nRUN echo ${h.runId}\n`,
  });
  const newer = await repo.commit({ 'a/README': 'newer\n' });
  // A real engine build; once it is done, the newer commit's event arrives.
  const engine = new EngineImageBuilder(new Docker());
  const builder: ImageBuilder = {
    async build(req, log, signal) {
      const result = await engine.build(req, log, signal);
      await nextSeq(h.redis, lane.prefix, h.source(repo, newer));
      return result;
    },
  };
  const lane = await h.lane({}, builder);
  const source = h.source(repo, older);
  const { state } = await h.finished(await h.enqueue(source, 'push', { queue: lane.builds }), lane.builds);
  assert.equal(state, 'completed');
  assert.equal(h.reporter.last(older, fn('a'))!.description, `superseded by ${newer.slice(0, 7)}`);
  assert.equal(h.reporter.last(older, fn('a'))!.state, 'cancelled');
  assert.equal(h.reporter.last(older, AGGREGATE_CONTEXT)!.description, `superseded by ${newer.slice(0, 7)}`);
  assert.equal(h.reporter.last(older, AGGREGATE_CONTEXT)!.state, 'cancelled');
  assert.equal(await lane.deploys.getJob(`deploy-${buildJobId(source, 'push')}`), undefined);
});

test('a build that outlasts GITFAAS_BUILD_TIMEOUT fails with a status that says so', { timeout: 120_000 }, async () => {
  const lane = await h.lane({ GITFAAS_BUILD_TIMEOUT: '3s' });
  const repo = await h.repo('slow');
  const sha = await repo.commit({
    'stack.yml': 'functions:\n  slow:\n    lang: dockerfile\n    handler: slow\n',
    'slow/Dockerfile': `FROM ${LOCAL_DEBIAN_IMAGE}\nRUN echo ${h.runId} && sleep 60\n`,
  });
  const started = Date.now();
  const { state } = await h.finished(await h.enqueue(h.source(repo, sha), 'push', { queue: lane.builds }), lane.builds);
  assert.equal(state, 'failed');
  assert.ok(Date.now() - started < 50_000, 'the build was stopped, not waited for');
  const status = h.reporter.last(sha, fn('slow'))!;
  assert.equal(status.state, 'failure');
  assert.equal(status.description, 'build timed out after 3.0s (GITFAAS_BUILD_TIMEOUT)');
  assert.match(h.reporter.last(sha, AGGREGATE_CONTEXT)!.description, /^slow: build timed out after 3\.0s/);
});
