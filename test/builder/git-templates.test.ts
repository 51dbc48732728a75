// Templates from git (stack.yml's configuration.templates): an OpenFaaS-style template
// repository served over HTTP on the run's git origin, fetched at a ref, cached per
// commit, built with the function's handler under function/ and run; a repository on an
// origin nobody configured, a lang no template provides, a ref that does not exist and a
// template's Dockerfile naming an image the policy does not allow all fail with the reason.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { AGGREGATE_CONTEXT } from '../../shared/status.js';
import { BuilderHarness, LOCAL_NODE_IMAGE } from './harness.js';
import type { TestRepo } from './git-repo.js';

const h = new BuilderHarness();
const fn = (name: string) => `${AGGREGATE_CONTEXT}/${name}`;
let templates: TestRepo;
let templatesSha: string;

// faas-cli template pull's layout: template/<lang>/Dockerfile, template.yml, and a sample
// handler under function/ that the function's own handler replaces.
const TEMPLATE_FILES = {
  'template/greet/template.yml': 'language: greet\nfprocess: node index.js\n',
  'template/greet/Dockerfile': `FROM ${LOCAL_NODE_IMAGE}
WORKDIR /home/app
COPY index.js ./
COPY function/ ./function/
USER 1000:1000
CMD ["node", "index.js"]
`,
  // The run's id keeps BuildKit from answering from an earlier run's cache.
  'template/greet/index.js': `// run ${h.runId}
const http = require('node:http');
const handler = require('./function/handler.js');
http.createServer(async (req, res) => {
  if (req.url === '/_/health') return res.end('OK');
  res.setHeader('x-template', 'greet');
  res.end(String(await handler(req.url)));
}).listen(8080);
`,
  'template/greet/function/handler.js': 'module.exports = async () => "the sample handler";\n',
  'template/greet/function/sample-only.txt': 'kept from the template\n',
  'template/elsewhere/Dockerfile': 'FROM alpine:3.20\nCMD ["true"]\n',
};

before(async () => {
  await h.start();
  await h.startBuilder();
  templates = await h.repo('templates');
  templatesSha = await templates.commit(TEMPLATE_FILES);
});
after(() => h.stop());

const stackWith = (lang: string, source: string, name = lang) =>
  `configuration:\n  templates:\n    - name: ${name}\n      source: ${source}\nfunctions:\n  fn:\n    lang: ${lang}\n    handler: ./fn\n`;

test('a template from a git repository builds the function; the checkout is cached per commit', async () => {
  const repo = await h.repo('uses-greet');
  const sha = await repo.commit({
    'stack.yml': stackWith('greet', `${h.cloneUrl(templates)}#main`),
    'fn/handler.js': 'module.exports = async (url) => "hello from " + url;\n',
  });
  const source = h.source(repo, sha);
  const { state } = await h.finished(await h.enqueue(source));
  const status = h.reporter.last(sha, AGGREGATE_CONTEXT)!;
  assert.equal(state, 'completed', status.description);
  const log = await h.log(status.targetUrl!);
  assert.match(log, new RegExp(`template ${h.cloneUrl(templates)}#main is ${templatesSha.slice(0, 12)}: fetched`));
  assert.match(log, new RegExp(`with template greet from ${h.cloneUrl(templates)}@${templatesSha.slice(0, 12)}`));
  const deployed = (await h.deployJob(source))!;
  const base = await h.run(deployed.functions[0].image);
  const res = await fetch(`${base}/some/path`);
  assert.equal(res.headers.get('x-template'), 'greet');
  assert.equal(await res.text(), 'hello from /some/path', "the function's handler replaced the template's sample");

  const cached = await readdir(path.join(h.root, 'state', 'templates'));
  assert.equal(cached.filter((n) => !n.startsWith('.')).length, 1);
  const commits = await readdir(path.join(h.root, 'state', 'templates', cached.find((n) => !n.startsWith('.'))!));
  assert.deepEqual(commits, [templatesSha]);

  // Pinned to the commit itself: served from the cache, no fetch.
  const sha2 = await repo.commit({ 'stack.yml': stackWith('greet', `${h.cloneUrl(templates)}#${templatesSha}`) });
  const { state: state2 } = await h.finished(await h.enqueue(h.source(repo, sha2)));
  const status2 = h.reporter.last(sha2, AGGREGATE_CONTEXT)!;
  assert.equal(state2, 'completed', status2.description);
  assert.match(await h.log(status2.targetUrl!), new RegExp(`template ${h.cloneUrl(templates)}@${templatesSha.slice(0, 12)}: from the cache`));
});

test('a template repository on an origin nobody configured is refused before any fetch', async () => {
  const repo = await h.repo('unknown-origin');
  const sha = await repo.commit({
    'stack.yml': stackWith('greet', 'https://templates.example.invalid/openfaas/templates.git#main'),
    'fn/handler.js': 'module.exports = async () => "x";\n',
  });
  const { state } = await h.finished(await h.enqueue(h.source(repo, sha)));
  assert.equal(state, 'failed');
  const aggregate = h.reporter.last(sha, AGGREGATE_CONTEXT)!;
  assert.equal(aggregate.state, 'failure');
  assert.match(aggregate.description, /^2 problems in stack\.yml: configuration\.templates\[0\]\.source: template repository on https:\/\/templates\.example\.invalid refused/);
  // The status is cut to its length limit; the check output has the whole text.
  assert.match(aggregate.details!.summary, new RegExp(`refused: templates are fetched only from https://github\\.com, ${h.git.url.replace(/\./g, '\\.')} \\(add an origin`));
  assert.equal(h.reporter.last(sha, fn('fn'))!.description, 'lang: template "greet" could not be pulled (see configuration.templates[0])');
  assert.match(await h.log(aggregate.targetUrl!), /add an origin to GITFAAS_GIT_HOSTS to allow another/);
});

test('a lang that no template provides is reported, naming the shipped and the pulled templates', async () => {
  const repo = await h.repo('unknown-lang');
  const sha = await repo.commit({
    'stack.yml': stackWith('cobol', `${h.cloneUrl(templates)}#main`, 'greet'),
    'fn/handler.js': 'module.exports = async () => "x";\n',
  });
  const { state } = await h.finished(await h.enqueue(h.source(repo, sha)));
  assert.equal(state, 'failed');
  assert.equal(
    h.reporter.last(sha, fn('fn'))!.description,
    'lang: unknown lang "cobol": available templates are dockerfile, node20, python3-http, and from configuration.templates: greet',
  );
  assert.match(h.reporter.last(sha, AGGREGATE_CONTEXT)!.description, /^1 problem in stack\.yml: functions\.fn\.lang: unknown lang "cobol"/);
});

test('a ref that does not exist fails naming it; a template name the repository lacks names what it holds', async () => {
  const repo = await h.repo('bad-ref');
  const sha = await repo.commit({
    'stack.yml': stackWith('greet', `${h.cloneUrl(templates)}#no-such-branch`),
    'fn/handler.js': 'module.exports = async () => "x";\n',
  });
  const { state, job } = await h.finished(await h.enqueue(h.source(repo, sha)));
  assert.equal(state, 'failed');
  assert.equal(job.attemptsMade, 1, 'a missing ref is not retried');
  const aggregate = h.reporter.last(sha, AGGREGATE_CONTEXT)!;
  assert.match(aggregate.description, /^2 problems in stack\.yml: configuration\.templates\[0\]\.source: ref "no-such-branch" not found in http:\/\/127\.0\.0\.1:/);
  assert.match(aggregate.details!.summary, new RegExp(`ref "no-such-branch" not found in ${h.cloneUrl(templates).replace(/\./g, '\\.')}\n`));

  const sha2 = await repo.commit({ 'stack.yml': stackWith('go', `${h.cloneUrl(templates)}#main`) });
  await h.finished(await h.enqueue(h.source(repo, sha2)));
  assert.match(
    h.reporter.last(sha2, AGGREGATE_CONTEXT)!.details!.summary,
    /configuration\.templates\[0\]: http:\S+ has no template\/go\/ \(faas-cli template pull's layout\); it holds template\/elsewhere, template\/greet/,
  );
});

test("a template's Dockerfile goes through the Dockerfile policy: an image not allowed is refused", async () => {
  const repo = await h.repo('policy');
  const sha = await repo.commit({
    'stack.yml': stackWith('elsewhere', `${h.cloneUrl(templates)}#main`),
    'fn/handler.js': 'module.exports = async () => "x";\n',
  });
  const { state } = await h.finished(await h.enqueue(h.source(repo, sha)));
  assert.equal(state, 'failed');
  const status = h.reporter.last(sha, fn('fn'))!;
  assert.equal(status.state, 'failure');
  assert.match(status.description, /^Dockerfile line 1: FROM alpine:3\.20: image "alpine:3\.20" is not one this build may use \(allowed: /);
});
