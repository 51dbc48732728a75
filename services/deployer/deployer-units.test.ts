import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import type { BuildJob } from '../../shared/jobs.js';
import { LABEL, heldByAnotherRepository, staleFunctions, toDeployment } from './deployment.js';
import { loadDeployerConfig } from './config.js';
import { functionUrlFor } from './function-url.js';
import { GatewayClient } from '../../shared/gateway-client.js';

const build: BuildJob = {
  kind: 'push',
  deliveryId: 'd',
  seq: 3,
  receivedAt: '2026-01-01T00:00:00Z',
  source: {
    scm: 'github',
    owner: 'Alice',
    repo: 'fns',
    fullName: 'Alice/fns',
    repoId: 42,
    cloneUrl: 'https://github.com/Alice/fns.git',
    private: false,
    sha: 'a'.repeat(40),
    branch: 'main',
    defaultBranch: 'main',
    namespace: 'gh-alice',
  },
};

test('stack.yml labels cannot forge the labels garbage collection trusts', () => {
  const d = toDeployment(
    { name: 'f', image: 'r/gh-alice/f@sha256:' + 'b'.repeat(64), envVars: {}, labels: { [LABEL.repoId]: '7', mine: 'x' }, annotations: {}, secrets: [] },
    build,
    new Date(1_700_000_000_000),
  );
  assert.equal(d.labels![LABEL.repoId], '42');
  assert.equal(d.labels!.mine, 'x');
  assert.equal(d.labels![LABEL.deployTime], '1700000000');
  assert.equal(d.namespace, 'gh-alice');
});

test('only this repository\'s functions that stack.yml dropped are stale', () => {
  const fn = (name: string, labels: Record<string, string>, namespace = 'gh-alice') =>
    ({ name, image: 'i', namespace, labels, invocationCount: 0, replicas: 1, availableReplicas: 1 });
  const ours = { [LABEL.scm]: 'github', [LABEL.repoId]: '42', [LABEL.owner]: 'alice' };
  const stale = staleFunctions(
    [
      fn('kept', ours),
      fn('dropped', ours),
      fn('other-repo', { ...ours, [LABEL.repoId]: '43' }),
      fn('gitlab-same-id', { ...ours, [LABEL.scm]: 'gitlab' }),
      fn('by-hand', {}),
      fn('other-owner', { ...ours, [LABEL.owner]: 'mallory' }),
      fn('other-namespace', ours, 'gh-bob'),
    ],
    build,
    new Set(['kept']),
  );
  assert.deepEqual(stale.map((f) => f.name), ['dropped']);
});

test('an unreachable gateway is retried, then named in the error', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  const client = new GatewayClient({ url: `http://127.0.0.1:${port}`, user: 'admin', password: 'p', passwordFile: '/none', retryDelaysMs: [10, 10] });
  const started = Date.now();
  await assert.rejects(client.list('gh-alice'), (err: Error & { status?: number }) => {
    assert.match(err.message, new RegExp(`gateway http://127.0.0.1:${port} unreachable`));
    assert.equal(err.status, 0);
    return true;
  });
  assert.ok(Date.now() - started >= 20, 'waited between attempts');
});

test('without a password the error names the variables and the file', async () => {
  const client = new GatewayClient({ url: 'http://127.0.0.1:1', user: 'admin', passwordFile: '/nonexistent/admin-password' });
  await assert.rejects(client.list('x'), /GITFAAS_ADMIN_PASSWORD.*\/nonexistent\/admin-password/);
});

test('success statuses link the gateway URL, or the owner\'s subdomain with GITFAAS_DOMAIN', () => {
  const plain = loadDeployerConfig({ GITFAAS_PUBLIC_URL: 'https://gw.example.com/' });
  assert.equal(functionUrlFor(plain)('echo', 'gh-alice'), 'https://gw.example.com/function/echo.gh-alice');
  const domain = loadDeployerConfig({ GITFAAS_DOMAIN: 'fn.example.com' });
  assert.equal(functionUrlFor(domain)('echo', 'gl-alice'), 'https://gl-alice.fn.example.com/echo');
  const local = loadDeployerConfig({ GITFAAS_DOMAIN: 'fn.localhost', GITFAAS_DOMAIN_SCHEME: 'http', GITFAAS_DOMAIN_PORT: '8080' });
  assert.equal(functionUrlFor(local)('echo', 'gh-bob'), 'http://bob.fn.localhost:8080/echo');
  assert.equal(functionUrlFor(local)('echo', 'gh-gl-bob'), 'http://gh-gl-bob.fn.localhost:8080/echo', 'a login that looks like a namespace keeps the namespace form');
  const gitlabBare = loadDeployerConfig({ GITFAAS_DOMAIN: 'fn.example.com', GITFAAS_BARE_LABELS: 'gitlab' });
  assert.equal(functionUrlFor(gitlabBare)('echo', 'gl-alice'), 'https://alice.fn.example.com/echo');
  assert.equal(functionUrlFor(gitlabBare)('echo', 'gh-alice'), 'https://gh-alice.fn.example.com/echo');
  const none = loadDeployerConfig({ GITFAAS_DOMAIN: 'fn.example.com', GITFAAS_BARE_LABELS: 'none' });
  assert.equal(functionUrlFor(none)('echo', 'gh-alice'), 'https://gh-alice.fn.example.com/echo');
  assert.throws(() => loadDeployerConfig({ GITFAAS_BARE_LABELS: 'bitbucket' }), /GITFAAS_BARE_LABELS/);
  assert.throws(() => loadDeployerConfig({ GITFAAS_DOMAIN: 'https://fn.example.com' }), /GITFAAS_DOMAIN/);
  assert.throws(() => loadDeployerConfig({ GITFAAS_DOMAIN_SCHEME: 'ftp' }), /GITFAAS_DOMAIN_SCHEME/);
  assert.throws(() => loadDeployerConfig({ GITFAAS_QUOTA_MAX_MEMORY: 'lots' }), /GITFAAS_QUOTA_MAX_MEMORY/);
  assert.equal(loadDeployerConfig({ GITFAAS_QUOTA_FUNCTIONS: '3' }).quotas.functionsPerOwner, 3);
});

test('a name is held by another repository only when its live function carries that repository\'s labels', () => {
  const live = (name: string, labels?: Record<string, string>) => ({ name, namespace: 'gh-alice', image: 'x', replicas: 1, availableReplicas: 1, invocationCount: 0, labels });
  const ours = { [LABEL.scm]: 'github', [LABEL.repoId]: '42', [LABEL.owner]: 'Alice', [LABEL.repo]: 'fns' };
  const existing = [
    live('mine', ours),
    live('theirs', { ...ours, [LABEL.repoId]: '43', [LABEL.repo]: 'other' }),
    live('gitlab', { ...ours, [LABEL.scm]: 'gitlab' }),
    live('by-hand', { team: 'x' }),
  ];
  assert.equal(heldByAnotherRepository(existing, build, 'mine'), undefined);
  assert.equal(heldByAnotherRepository(existing, build, 'new'), undefined);
  assert.equal(heldByAnotherRepository(existing, build, 'by-hand'), undefined, 'a hand-deployed function is the admin\'s');
  assert.match(heldByAnotherRepository(existing, build, 'theirs')!, /^the name "theirs" is held by Alice\/other \(github\): remove it from that repository's stack.yml/);
  assert.match(heldByAnotherRepository(existing, build, 'gitlab')!, /held by Alice\/fns \(gitlab\)/, 'the same id on another scm is another repository');
});
