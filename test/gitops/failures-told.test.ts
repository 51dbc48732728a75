// Failures told to the user (issue 12): what went wrong reaches the status and the build
// log, whatever the stage. Real builds and deploys; GitHub's API is the stand-in.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { CommitStatus } from '../fakes/github-api.js';
import { nodeHandler, stackYml, startGitOpsStack, type GitOpsRepo, type GitOpsStack } from '../helpers/gitops-stack.js';
import { waitFor } from '../helpers/wait.js';

const BUILD_MS = 180_000;
/** A node20 handler whose second line does not parse. */
const BROKEN = `'use strict';\nmodule.exports = async (event, context) => context.status(200).succeed("x";\n`;

describe('failures told to the user', () => {
  let stack: GitOpsStack;

  before(async () => {
    // A crashing replica is given up on quickly; the deploy waits for its verdict.
    stack = await startGitOpsStack({ readyTimeoutMs: 30_000 });
  });
  after(async () => {
    await stack?.stop();
  });

  const settled = (sha: string, context = 'gitfaas') =>
    waitFor(
      `the ${context} status of ${sha.slice(0, 7)} to settle`,
      async () => stack.github.statusesFor(sha, context).find((s) => s.state === 'success' || s.state === 'failure'),
      BUILD_MS,
      200,
    );
  const describeStatuses = (sha: string) => stack.github.statusesFor(sha).map((s) => `${s.context} ${s.state}: ${s.description}`).join('\n');
  const readLog = async (status: CommitStatus) => {
    assert.ok(status.target_url?.startsWith(`${stack.webhooks.url}/logs/`), `links the build log: ${status.target_url}`);
    return (await fetch(status.target_url!)).text();
  };

  describe('stack.yml problems', () => {
    let repo: GitOpsRepo;
    before(async () => {
      repo = await stack.newRepo('problems');
    });

    test('problems of six kinds, in the schema and in the checkout, are told in one report before anything is built', async () => {
      const sha = await repo.commit({
        'stack.yml': [
          'version: 1.0',
          'provider: {name: openfaas}',
          'functions:',
          '  a: {lang: cobol, handler: ./a}',
          '  b: {lang: node20, handler: ./missing}',
          '  c: {lang: node20, handler: ./c, colour: blue}',
          '  d: {lang: node20, handler: ./d, environment_file: [./nope.yml]}',
          '  e: {lang: dockerfile, handler: ./e}',
          '  f: {lang: node20, handler: ./f}',
          '',
        ].join('\n'),
        'a/handler.js': nodeHandler('a'),
        'c/handler.js': nodeHandler('c'),
        'd/handler.js': nodeHandler('d'),
        'e/server.js': 'x',
        'f/index.js': nodeHandler('f'),
      });
      assert.equal((await repo.push(sha)).status, 202);
      const aggregate = await settled(sha);
      assert.equal(aggregate.state, 'failure');
      assert.match(aggregate.description!, /^stack\.yml has 6 problems: .* \(\+5 more\)$/, aggregate.description);
      const log = await readLog(aggregate);
      for (const problem of [
        /functions\.c\.colour: unknown field/,
        /functions\.a\.lang: .*cobol/,
        /functions\.b\.handler: "\.\/missing" does not exist in the repository/,
        /functions\.d\.environment_file\[0\]: "\.\/nope\.yml" does not exist/,
        /functions\.e\.handler: "\.\/e" has no Dockerfile/,
        /functions\.f\.handler: "\.\/f" has no handler\.js/,
      ]) {
        assert.match(log, problem);
      }
      assert.doesNotMatch(log, /building 127\.0\.0\.1/, 'nothing was built');
    });

    test('a YAML syntax error shows the line it points at, in the status and the log', async () => {
      const sha = await repo.commit({ 'stack.yml': 'version: 1.0\nfunctions:\n  hello: {lang: node20, handler: ./hello\n  other: x\n' });
      assert.equal((await repo.push(sha)).status, 202);
      const aggregate = await settled(sha);
      assert.equal(aggregate.state, 'failure');
      assert.match(aggregate.description!, /^stack\.yml: not valid YAML at line 4, column 3 \("other: x"\): /, aggregate.description);
      assert.match(await readLog(aggregate), / {4}4 \| {3}other: x\n {6}\| {3}\^/);
    });
  });

  describe('a handler that crashes at start', () => {
    let repo: GitOpsRepo;
    before(async () => {
      repo = await stack.newRepo('crash');
    });

    test('a new function: the status names the SyntaxError, the build log has its context and ends with the deploy', async () => {
      const sha = await repo.commit({ 'stack.yml': stackYml({ crashy: { lang: 'node20', handler: './crashy' } }), 'crashy/handler.js': BROKEN });
      assert.equal((await repo.push(sha)).status, 202);
      const aggregate = await settled(sha);
      assert.equal(aggregate.state, 'failure', describeStatuses(sha));
      const fn = await settled(sha, 'gitfaas/crashy');
      assert.match(fn.description!, /^deploy failed: exited with code 1: SyntaxError: missing \) after argument list/, describeStatuses(sha));
      assert.ok(fn.description!.length <= 140);
      assert.doesNotMatch(fn.description!, /[\x00-\x08]/, 'no frame header bytes');
      const log = await readLog(aggregate);
      assert.match(log, /\[crashy\] FAILED: exited with code 1: SyntaxError: missing \) after argument list/);
      assert.match(log, /\[crashy\] {3}\/home\/app\/function\/handler\.js:2\n/);
      assert.match(log, /\[crashy\] {3}module\.exports = .*succeed\("x";/);
      assert.equal(log.trimEnd().split('\n').at(-1), 'deploy failed', log);
    });

    test('an update that crashes: the old version keeps serving and /system/logs shows the crashed replica', async () => {
      const good = await repo.commit({ 'crashy/handler.js': nodeHandler('works') });
      assert.equal((await repo.push(good)).status, 202);
      assert.equal((await settled(good)).state, 'success', describeStatuses(good));
      const bad = await repo.commit({ 'crashy/handler.js': BROKEN });
      assert.equal((await repo.push(bad)).status, 202);
      assert.equal((await settled(bad)).state, 'failure', describeStatuses(bad));
      assert.equal((await stack.call('crashy')).text, 'works');
      const res = await fetch(`${stack.gateway.url}/system/logs?name=crashy&namespace=${stack.namespace}`, { headers: { authorization: stack.gateway.authHeader } });
      assert.equal(res.status, 200);
      const texts = (await res.text()).trim().split('\n').map((l) => JSON.parse(l).text as string);
      assert.ok(texts.some((t) => t.startsWith('[gitfaas] this replica exited with code 1')), texts.join('\n'));
      assert.ok(texts.includes('SyntaxError: missing ) after argument list'), texts.join('\n'));
    });
  });
});
