// The builder end to end against the real Redis (BullMQ), git, the Docker engine's
// BuildKit and the local registry: real repositories are pushed, built, and the images
// run and answer; failures end in failed statuses whose log link shows the reason.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { buildJobId, type BuiltFunction } from '../../shared/jobs.js';
import { AGGREGATE_CONTEXT } from '../../shared/status.js';
import { BuilderHarness, LOCAL_NODE_IMAGE } from './harness.js';
import type { TestRepo } from './git-repo.js';

const h = new BuilderHarness();

// The run's id is in the code and the manifest, so the first build of this run cannot come
// from a cache an earlier run left.
const nodeHandler = (greeting: string) => `'use strict'; // run ${h.runId}
const greet = require('greet');
module.exports = async (event, context) => {
  const name = (event.body && event.body.name) || 'nobody';
  return context
    .status(201)
    .headers({ 'x-fn': 'node', 'x-env': process.env.FROM_FILE + '/' + process.env.INLINE })
    .succeed({ greeting: greet('${greeting}', name), method: event.method, query: event.query, path: event.path });
};
`;

const STACK = `version: 1.0
provider:
  name: openfaas
  gateway: http://127.0.0.1:8080
functions:
  hello:
    lang: node20
    handler: ./hello
    image: alice/hello:latest
    environment: { INLINE: inline }
    environment_file: [env.yml]
    labels: { tier: web }
    annotations: { topic: greetings }
    secrets: [api-key]
    limits: { memory: 128Mi }
    requests: { cpu: 100m }
    readonly_root_filesystem: true
  py:
    lang: python3-http
    handler: ./py
  docker:
    lang: dockerfile
    handler: ./docker
`;

const FILES = {
  'stack.yml': STACK,
  'env.yml': 'environment:\n  FROM_FILE: from-file\n',
  'hello/handler.js': nodeHandler('hello'),
  'hello/package.json': JSON.stringify({ name: 'hello', version: '1.0.0', description: `run ${h.runId}`, dependencies: { greet: 'file:vendor/greet' } }),
  'hello/vendor/greet/package.json': JSON.stringify({ name: 'greet', version: '1.0.0', main: 'index.js' }),
  'hello/vendor/greet/index.js': "module.exports = (greeting, name) => greeting + ', ' + name;\n",
  'py/handler.py': `def handle(event, context):
    return {
        "statusCode": 202,
        "body": {"got": event.body.decode(), "method": event.method, "q": event.query.get("q"), "path": event.path},
        "headers": {"X-Fn": "python"},
    }
`,
  'py/requirements.txt': `# no dependencies (run ${h.runId})\n\n`,
  'docker/Dockerfile': `FROM ${LOCAL_NODE_IMAGE}\nCOPY server.js /server.js\nUSER 1000\nCMD ["node", "/server.js"]\n`,
  'docker/server.js':
    "require('node:http').createServer((req, res) => res.end(req.url === '/_/health' ? 'OK' : 'dockerfile ok')).listen(8080);\n",
};

before(() => h.start());
after(() => h.stop());

describe('a push', () => {
  let repo: TestRepo;
  let firstSha: string;
  let firstBuild: { functions: BuiltFunction[]; logUrl?: string };

  before(async () => {
    await h.startBuilder();
    repo = await h.repo('fns');
  });

  test('builds node20, python3-http and dockerfile functions, reports statuses and queues a deploy', async () => {
    firstSha = await repo.commit(FILES, 'first');
    const source = h.source(repo, firstSha);
    const id = await h.enqueue(source);
    const { state, job } = await h.finished(id);
    assert.equal(state, 'completed', job.failedReason);

    const aggregate = h.reporter.for(firstSha, AGGREGATE_CONTEXT);
    assert.equal(aggregate[0].state, 'pending');
    assert.match(aggregate[0].description, /^building/);
    assert.equal(aggregate.at(-1)!.state, 'running');
    assert.match(aggregate.at(-1)!.description, /^built in .*, deploying$/);
    assert.match(aggregate.at(-1)!.details!.summary, /^clone: \d+\.\d s, build: \d+\.\d s, push: \d+\.\d s$/);
    for (const fn of ['hello', 'py', 'docker']) {
      const updates = h.reporter.for(firstSha, `${AGGREGATE_CONTEXT}/${fn}`);
      assert.deepEqual(updates.map((u) => u.description.replace(/\d+(\.\d+)?s/, 'Ns')), ['building', 'built in Ns, deploying']);
      assert.ok(updates.every((u) => u.state === 'running' && u.targetUrl?.startsWith(`${h.logBase}/logs/`)));
    }

    assert.deepEqual(await readdir(path.join(h.root, 'state', 'builds')), [], 'the work directory was removed');
    const deploy = await h.deployJob(source);
    assert.ok(deploy, 'a deploy job was queued');
    assert.equal(deploy.build.source.sha, firstSha);
    assert.deepEqual(Object.keys(deploy.stages).sort(), ['build', 'clone', 'push']);
    const hello = deploy.functions.find((f) => f.name === 'hello')!;
    assert.match(hello.image, new RegExp(`^127\\.0\\.0\\.1:5000/${h.namespace}/hello@sha256:[0-9a-f]{64}$`));
    assert.deepEqual(hello.envVars, { FROM_FILE: 'from-file', INLINE: 'inline' });
    assert.deepEqual(hello.labels, { tier: 'web' });
    assert.deepEqual(hello.annotations, { topic: 'greetings' });
    assert.deepEqual(hello.secrets, ['api-key']);
    assert.deepEqual(hello.limits, { memory: '128Mi', cpu: '500m' }, 'the CPU limit stack.yml leaves out is the default quota');
    assert.deepEqual(hello.requests, { cpu: '100m' });
    assert.equal(hello.readOnlyRootFilesystem, true);
    assert.deepEqual(deploy.functions.map((f) => f.name).sort(), ['docker', 'hello', 'py']);
    firstBuild = deploy;

    const log = await h.log(deploy.logUrl!);
    // GITFAAS_BUILD_PARALLELISM=3: all three builds start before any of them is pushed.
    const lines = log.split('\n');
    const firstPush = lines.findIndex((l) => / pushed /.test(l));
    for (const f of ['hello', 'py', 'docker']) {
      const started = lines.findIndex((l) => l.startsWith(`[${f}] building `) || l.startsWith(`[${f}] npm dependencies: `));
      assert.ok(started !== -1 && started < firstPush, `${f} started building before the first push`);
    }
    // The builder installs npm dependencies (npm-deps.ts); the build runs their scripts offline.
    assert.match(log, /\[hello\] npm dependencies: npm install from /);
    assert.match(log, /\[hello\] #\d+ running the install scripts of 1 npm packages \(offline\)/);
    assert.match(log, /\[py\] #\d+ no pip requirements declared/);
    // The deployer writes the rest of the log and ends it; here there is no deployer.
    assert.match(log, /built in .*; deploy queued for hello, py, docker\n$/);
  });

  test('the built images run and answer with the OpenFaaS handler signatures', async () => {
    const image = (name: string) => firstBuild.functions.find((f) => f.name === name)!.image;

    const node = await h.run(image('hello'));
    const res = await fetch(`${node}/some/path?q=1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"ada"}' });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('x-fn'), 'node');
    assert.deepEqual(await res.json(), { greeting: 'hello, ada', method: 'POST', query: { q: '1' }, path: '/some/path' });

    const py = await h.run(image('py'));
    const pres = await fetch(`${py}/p?q=2`, { method: 'PUT', body: 'raw body' });
    assert.equal(pres.status, 202);
    assert.equal(pres.headers.get('x-fn'), 'python');
    assert.deepEqual(await pres.json(), { got: 'raw body', method: 'PUT', q: '2', path: '/p' });

    const docker = await h.run(image('docker'));
    assert.equal(await (await fetch(docker)).text(), 'dockerfile ok');
  });

  test('a one-line change rebuilds from the cache: dependencies are not installed again', async () => {
    const sha = await repo.commit({ 'hello/handler.js': nodeHandler('bonjour') }, 'one-line change');
    const source = h.source(repo, sha);
    const { state, job } = await h.finished(await h.enqueue(source));
    assert.equal(state, 'completed', job.failedReason);
    const deploy = (await h.deployJob(source))!;
    const log = await h.log(deploy.logUrl!);
    const steps = stepsOf(log, 'hello');
    const install = steps.find((s) => /RUN if \[ -d node_modules \]/.test(s.name));
    const copyCode = steps.find((s) => /COPY function\//.test(s.name));
    assert.ok(install && copyCode, `steps found in:\n${log}`);
    assert.equal(install.cached, true, `the npm install layer came from the cache: ${JSON.stringify(steps)}`);
    assert.equal(copyCode.cached, false, 'the changed code was copied again');
    // Every Dockerfile step but FROM (which BuildKit reports as resolved, not cached) and
    // the COPY of the changed code came from the cache.
    const dockerfileSteps = steps.filter((s) => /^\[\d+\/\d+\] (?!FROM)/.test(s.name));
    const cached = dockerfileSteps.filter((s) => s.cached).length;
    assert.equal(cached, dockerfileSteps.length - 1, `${cached} of ${dockerfileSteps.length} Dockerfile steps cached:\n${JSON.stringify(steps, null, 1)}`);
    assert.match(log, /\[hello\] npm dependencies: reusing the install of this package\.json/);
    assert.ok(!/\[hello\] npm dependencies: npm install/.test(log), 'npm did not run again');
    const before = firstBuild.functions.find((f) => f.name === 'hello')!;
    const after = deploy.functions.find((f) => f.name === 'hello')!;
    console.log(`# hello build+push: first ${before.buildSeconds}s, one-line change ${after.buildSeconds}s (${cached}/${dockerfileSteps.length} steps cached)`);
    const node = await h.run(after.image);
    const res = await fetch(node, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"ada"}' });
    assert.equal((await res.json()).greeting, 'bonjour, ada');
  });

  test('a pull request is built and handed to the deployer, which decides on its previews', async () => {
    const sha = await repo.commit({ 'hello/handler.js': nodeHandler('hi') }, 'pr change');
    const source = h.source(repo, sha, { branch: 'feature', pullRequest: 7 });
    const { state } = await h.finished(await h.enqueue(source, 'pull_request'));
    assert.equal(state, 'completed');
    for (const fn of ['hello', 'py', 'docker']) {
      const last = h.reporter.last(sha, `${AGGREGATE_CONTEXT}/${fn}`)!;
      assert.equal(last.state, 'running');
      assert.match(last.description, /deploying preview$/);
    }
    const aggregate = h.reporter.last(sha, AGGREGATE_CONTEXT)!;
    assert.match(aggregate.description, /deploying preview$/);
    const deploy = await h.deployJob(source, 'pull_request');
    assert.ok(deploy, 'a deploy job for the pull request');
  });
});

describe('a private repository', () => {
  const TOKEN = 'ghs_private-token-for-the-builder-test-0123456789';

  test('clones with the token from cloneCredentials, which appears in no log or status', async () => {
    const repo = await h.repo('private');
    const sha = await repo.commit({
      'stack.yml': 'functions:\n  secretive: { lang: node20, handler: fn }\n',
      'fn/handler.js': `module.exports = async () => 'private ${h.runId}';\n`,
    });
    h.git.protect(new URL(h.cloneUrl(repo)).pathname, { username: 'x-access-token', password: TOKEN });
    const asked: string[] = [];
    const lane = await h.lane({}, undefined, {
      cloneCredentials: async (source) => {
        asked.push(source.fullName);
        return { username: 'x-access-token', password: TOKEN };
      },
    });
    const source = h.source(repo, sha, { private: true });
    const { state, job } = await h.finished(await h.enqueue(source, 'push', { queue: lane.builds }), lane.builds);
    assert.equal(state, 'completed', job.failedReason);
    assert.deepEqual(asked, [source.fullName]);
    const deploy = (await lane.deploys.getJob(`deploy-${buildJobId(source, 'push')}`))!.data;
    const log = await h.log(deploy.logUrl!);
    assert.match(log, /\(with credentials\)/);
    const basic = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');
    for (const text of [log, JSON.stringify(deploy), JSON.stringify(h.reporter.for(sha))]) {
      assert.ok(!text.includes(TOKEN) && !text.includes(basic), 'no credentials in logs, jobs or statuses');
    }
    const fn = await h.run(deploy.functions[0].image);
    assert.equal(await (await fetch(fn)).text(), `private ${h.runId}`);
  });
});

/** Steps of one function's build in a log: "#n name" then "#n CACHED" / "#n DONE". */
function stepsOf(log: string, fn: string): Array<{ name: string; cached: boolean }> {
  const names = new Map<string, string>();
  const done = new Map<string, boolean>();
  for (const line of log.split('\n')) {
    const m = new RegExp(`^\\[${fn}\\] #(\\d+) (.*)$`).exec(line);
    if (!m) continue;
    if (!names.has(m[1])) names.set(m[1], m[2]);
    else if (m[2] === 'CACHED') done.set(m[1], true);
    else if (m[2] === 'DONE') done.set(m[1], false);
  }
  return [...names].map(([n, name]) => ({ name, cached: done.get(n) === true }));
}
