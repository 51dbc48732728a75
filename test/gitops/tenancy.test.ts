// Tenants end to end (real receiver, builder, deployer, gateway; GitHub and GitLab API
// stand-ins): owners of the same login on GitHub and GitLab land in different namespaces
// and never touch each other's functions; a stack.yml that tries to leave its namespace,
// forge reserved labels or exceed a quota fails with a status naming each problem; the
// default limits reach the deployed function; with GITFAAS_DOMAIN, statuses link the
// owner's subdomain.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { nodeHandler, stackYml, startGitOpsStack, type GitOpsStack } from '../helpers/gitops-stack.js';
import { waitFor } from '../helpers/wait.js';

const BUILD_MS = 180_000;
const DOMAIN = 'fn.example.test';

describe('tenants', () => {
  let stack: GitOpsStack;
  const login = `alice${randomBytes(3).toString('hex')}`;

  before(async () => {
    stack = await startGitOpsStack({
      env: {
        GITFAAS_QUOTA_FUNCTIONS: '2',
        GITFAAS_QUOTA_REPLICAS: '3',
        GITFAAS_DOMAIN: DOMAIN,
        GITFAAS_DOMAIN_SCHEME: 'http',
        GITFAAS_DOMAIN_PORT: '8443',
      },
    });
  });
  after(async () => {
    await stack?.stop();
  });

  /** Final aggregate status of a commit on whichever host it came from. */
  const settled = (sha: string) =>
    waitFor(
      `the gitfaas status of ${sha.slice(0, 7)} to settle`,
      async () =>
        stack.github.statusesFor(sha, 'gitfaas').find((s) => s.state === 'success' || s.state === 'failure') ??
        stack.gitlab.statuses.find((s) => s.sha === sha && s.name === 'gitfaas' && (s.state === 'success' || s.state === 'failed')),
      BUILD_MS,
      200,
    );
  const targetOf = (s: Awaited<ReturnType<typeof settled>>) => ('projectId' in s ? s.targetUrl : s.target_url) ?? undefined;
  const describeAll = (sha: string) =>
    [...stack.github.statusesFor(sha).map((s) => `${s.context} ${s.state}: ${s.description}`), ...stack.gitlab.statuses.filter((s) => s.sha === sha).map((s) => `${s.name} ${s.state}: ${s.description}`)].join('\n');
  const admin = (p: string) => fetch(`${stack.gateway.url}${p}`, { headers: { authorization: stack.gateway.authHeader } });
  const readLog = async (url: string | undefined) => {
    assert.ok(url?.startsWith(`${stack.webhooks.url}/logs/`), `links the build log: ${url}`);
    return (await fetch(url!)).text();
  };

  test('a GitHub and a GitLab owner of the same login get their own namespaces and never touch each other\'s functions', async () => {
    const gh = await stack.newRepo('fns', { owner: login });
    const gl = await stack.newGitLabRepo('fns', { owner: login });
    const [ghNs, glNs] = [`gh-${login}`, gl.namespace];
    assert.equal(glNs, `gl-${login}`);
    const ghSha = await gh.commit({ 'stack.yml': stackYml({ hello: { lang: 'node20', handler: './hello' } }), 'hello/handler.js': nodeHandler('github alice') });
    const glSha = await gl.commit({ 'stack.yml': stackYml({ hello: { lang: 'node20', handler: './hello' } }), 'hello/handler.js': nodeHandler('gitlab alice') });
    assert.equal((await gh.push(ghSha)).status, 202);
    assert.equal((await gl.push(glSha)).status, 202);
    const [ghStatus, glStatus] = await Promise.all([settled(ghSha), settled(glSha)]);
    assert.equal(ghStatus.state, 'success', describeAll(ghSha));
    assert.equal(glStatus.state, 'success', describeAll(glSha));
    // The function's own status links its URL on the owner's subdomain; the aggregate one the build log.
    const ghFn = stack.github.statusesFor(ghSha, 'gitfaas/hello').at(-1);
    const glFn = stack.gitlab.statuses.filter((s) => s.sha === glSha && s.name === 'gitfaas/hello').at(-1);
    // GitHub logins get the bare label by default (GITFAAS_BARE_LABELS=github); GitLab's keep the namespace form.
    assert.equal(ghFn?.target_url, `http://${login}.${DOMAIN}:8443/hello`, 'the success status links the owner\'s subdomain');
    assert.equal(glFn?.targetUrl, `http://${glNs}.${DOMAIN}:8443/hello`);
    assert.match(targetOf(ghStatus) ?? '', /\/logs\//);
    assert.match(targetOf(glStatus) ?? '', /\/logs\//);
    assert.equal((await stack.call('hello', ghNs)).text, 'github alice');
    assert.equal((await stack.call('hello', glNs)).text, 'gitlab alice');

    // The GitHub repository drops hello: only its own function goes, GitLab's stays.
    const dropped = await gh.commit({ 'stack.yml': stackYml({ other: { lang: 'node20', handler: './hello' } }) });
    assert.equal((await gh.push(dropped)).status, 202);
    const after = await settled(dropped);
    assert.equal(after.state, 'success', describeAll(dropped));
    assert.match(after.description!, /removed hello/);
    assert.equal((await stack.call('hello', ghNs)).status, 404);
    assert.equal((await stack.call('hello', glNs)).text, 'gitlab alice');
    assert.equal((await stack.call('other', ghNs)).text, 'github alice');

    // The default limits (GITFAAS_QUOTA_DEFAULT_*) are on the deployed function.
    const res = await admin(`/system/function/hello?namespace=${glNs}`);
    assert.equal(res.status, 200);
    assert.deepEqual((await res.json()).limits, { memory: '256Mi', cpu: '500m' });
  });

  test('a stack.yml that leaves its namespace, uses a dotted name, forges reserved keys or exceeds quotas fails naming each', async () => {
    const repo = await stack.newRepo('escape', { owner: login });
    const sha = await repo.commit({
      'stack.yml': `version: 1.0
provider: { name: openfaas }
functions:
  evil: { lang: node20, handler: ./f, namespace: gl-${login} }
  dot.ted: { lang: node20, handler: ./f }
  forged:
    lang: node20
    handler: ./f
    labels: { com.openfaas.cloud.git-owner: someone-else }
    annotations: { com.gitfaas.owner: someone-else, com.gitfaas.domain: mine.example.test }
  scaled: { lang: node20, handler: ./f, labels: { com.openfaas.scale.max: "10" } }
  big: { lang: node20, handler: ./f, limits: { memory: 4Gi, cpu: "3" } }
`,
      'f/handler.js': nodeHandler('must not run'),
    });
    assert.equal((await repo.push(sha)).status, 202);
    const status = await settled(sha);
    assert.equal(status.state, 'failure', describeAll(sha));
    assert.match(status.description!, /problems/);
    const log = await readLog(targetOf(status));
    for (const expected of [
      new RegExp(`function evil: namespace "gl-${login}" is not this owner's namespace`),
      /function dot\.ted: name must be a DNS-1123 label/,
      /function forged: labels\.com\.openfaas\.cloud\.git-owner is reserved/,
      /function forged: annotations\.com\.gitfaas\.owner is reserved/,
      /function scaled: labels\.com\.openfaas\.scale\.max "10" is outside the quota replicasPerFunction \(0 to 3\)/,
      /function big: limits\.memory 4Gi is over the quota maxMemory \(1Gi\)/,
      /function big: limits\.cpu 3 is over the quota maxCpu \(1\)/,
      /quota functionsPerOwner: .* would run 5 functions, the quota is 2/,
    ]) {
      assert.match(log, expected);
    }
    assert.doesNotMatch(log, /com\.gitfaas\.domain/, 'the custom domain claim is the user\'s to make');
    for (const fn of ['evil', 'forged', 'scaled', 'big']) {
      for (const ns of [`gh-${login}`, `gl-${login}`]) assert.notEqual((await stack.call(fn, ns)).text, 'must not run');
    }
  });

  test('a second repository that would take the owner over its function quota fails naming the quota', async () => {
    // `other` from the first test already runs in gh-<login>; the quota is 2.
    const repo = await stack.newRepo('more', { owner: login });
    const sha = await repo.commit({
      'stack.yml': stackYml({ one: { lang: 'node20', handler: './f' }, two: { lang: 'node20', handler: './f' } }),
      'f/handler.js': nodeHandler('one too many'),
    });
    assert.equal((await repo.push(sha)).status, 202);
    const status = await settled(sha);
    assert.equal(status.state, 'failure', describeAll(sha));
    assert.match(status.description!, new RegExp(`quota functionsPerOwner: gh-${login} would run 3 functions, the quota is 2`));
    const one = stack.github.statusesFor(sha, 'gitfaas/one').at(-1)!;
    assert.equal(one.state, 'failure');
    assert.match(one.description!, /functionsPerOwner/);
    assert.equal((await stack.call('one', `gh-${login}`)).status, 404);
    assert.equal((await stack.call('other', `gh-${login}`)).text, 'github alice', 'what the owner ran is untouched');
  });

  test(
    'a custom domain another function holds fails the deploy with a status saying who holds it',
    async () => {
      const domain = `api-${randomBytes(3).toString('hex')}.example.test`;
      const claim = (text: string) => ({
        'stack.yml': `version: 1.0\nfunctions:\n  api:\n    lang: node20\n    handler: ./f\n    annotations: { com.gitfaas.domain: ${domain} }\n`,
        'f/handler.js': nodeHandler(text),
      });
      const first = await stack.newGitLabRepo('claim');
      const firstSha = await first.commit(claim('first claim'));
      assert.equal((await first.push(firstSha)).status, 202);
      assert.equal((await settled(firstSha)).state, 'success', describeAll(firstSha));
      const second = await stack.newRepo('claim2', { owner: `bob${randomBytes(3).toString('hex')}` });
      const secondSha = await second.commit(claim('second claim'));
      assert.equal((await second.push(secondSha)).status, 202);
      const status = await settled(secondSha);
      assert.equal(status.state, 'failure', describeAll(secondSha));
      const fn = stack.github.statusesFor(secondSha, 'gitfaas/api').at(-1)!;
      assert.match(fn.description!, new RegExp(`${domain.replace(/\./g, '\\.')} is held by api\\.${first.namespace}`));
      assert.equal((await stack.call('api', first.namespace)).text, 'first claim');
    },
  );
});

