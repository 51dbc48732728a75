import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../../shared/config.js';
import { loadBuilderConfig } from './config.js';

test('defaults', () => {
  const c = loadBuilderConfig({});
  assert.equal(c.queuePrefix, 'gitfaas');
  assert.equal(c.concurrency, 2);
  assert.equal(c.parallelism, 4);
  assert.equal(c.buildTimeoutMs, 10 * 60_000);
  assert.equal(c.registry, '127.0.0.1:5000');
  assert.equal(c.buildkitAddr, undefined);
  assert.deepEqual(c.baseImages, { node: 'node:20-bookworm-slim', python: 'python:3.12-slim-bookworm' });
  assert.equal(c.buildLogTtlMs, 7 * 24 * 3600 * 1000);
  assert.equal(c.publicUrl, 'http://127.0.0.1:8081');
  assert.equal(c.stateDir, path.resolve('.state'));
  assert.equal(c.github.credentials.kind, 'none');
});

test('durations take milliseconds or a unit; other settings parse', () => {
  const c = loadBuilderConfig({
    GITFAAS_BUILD_TIMEOUT: '90s',
    GITFAAS_BUILD_LOG_TTL: '2d',
    GITFAAS_BUILDKIT_ADDR: 'tcp://buildkitd:1234',
    GITFAAS_WEBHOOKS_PUBLIC_URL: 'https://hooks.example.com/',
    GITFAAS_TEMPLATE_NODE_IMAGE: '127.0.0.1:5000/gitfaas/node:20',
    GITFAAS_BUILD_PARALLELISM: '8',
  });
  assert.equal(c.buildTimeoutMs, 90_000);
  assert.equal(c.buildLogTtlMs, 2 * 86_400_000);
  assert.equal(c.buildkitAddr, 'tcp://buildkitd:1234');
  assert.equal(c.publicUrl, 'https://hooks.example.com');
  assert.equal(c.baseImages.node, '127.0.0.1:5000/gitfaas/node:20');
  assert.equal(c.parallelism, 8);
  assert.equal(loadBuilderConfig({ GITFAAS_BUILD_TIMEOUT: '1500' }).buildTimeoutMs, 1500);
});

test('bad values stop start-up with one error naming every variable', () => {
  assert.throws(
    () =>
      loadBuilderConfig({
        GITFAAS_BUILD_TIMEOUT: 'ten minutes',
        GITFAAS_BUILD_PARALLELISM: '0',
        GITFAAS_REGISTRY: 'http://127.0.0.1:5000',
        GITFAAS_BUILDKIT_ADDR: 'buildkitd:1234',
        GITFAAS_WEBHOOKS_PUBLIC_URL: 'not a url',
      }),
    (err: Error) => {
      assert.ok(err instanceof ConfigError);
      for (const v of ['GITFAAS_BUILD_TIMEOUT', 'GITFAAS_BUILD_PARALLELISM', 'GITFAAS_REGISTRY', 'GITFAAS_BUILDKIT_ADDR', 'GITFAAS_WEBHOOKS_PUBLIC_URL']) {
        assert.match(err.message, new RegExp(`\\n  ${v}: `), `${v} named in:\n${err.message}`);
      }
      return true;
    },
  );
});

test('GitHub credentials come from GITHUB_TOKEN or GITHUB_TOKEN_FILE', () => {
  const c = loadBuilderConfig({ GITHUB_TOKEN: 'ghp_x' });
  assert.deepEqual(c.github.credentials, { kind: 'token', token: 'ghp_x' });
});

test('GitLab settings and quotas: GITLAB_TOKEN from a file, quota quantities checked', async () => {
  const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const os = await import('node:os');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gitfaas-bcfg-'));
  try {
    await writeFile(path.join(dir, 'token'), 'glpat-from-file\n');
    const c = loadBuilderConfig({ GITLAB_URL: 'https://gitlab.example.com/', GITLAB_TOKEN_FILE: path.join(dir, 'token'), GITFAAS_QUOTA_DEFAULT_MEMORY: '128Mi' });
    assert.deepEqual(c.gitlab, { url: 'https://gitlab.example.com', token: 'glpat-from-file' });
    assert.equal(c.quotas.defaultMemory, '128Mi');
    assert.equal(c.quotas.defaultCpu, '500m');
    assert.throws(() => loadBuilderConfig({ GITFAAS_QUOTA_DEFAULT_CPU: 'half' }), /GITFAAS_QUOTA_DEFAULT_CPU/);
    assert.throws(() => loadBuilderConfig({ GITLAB_TOKEN: 'a', GITLAB_TOKEN_FILE: '/x' }), /both set/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('build isolation and work limits: defaults, overrides, and a bad allowlist entry named', () => {
  const c = loadBuilderConfig({});
  assert.deepEqual(c.allowedImages, []);
  assert.deepEqual(c.limits, {
    stackBytes: 1024 * 1024,
    envEntries: 1000,
    envBytes: 256 * 1024,
    handlerFiles: 20_000,
    handlerBytes: 256 * 1024 * 1024,
    parseTimeoutMs: 20_000,
  });
  const o = loadBuilderConfig({ GITFAAS_BUILD_ALLOWED_IMAGES: ' alpine , 127.0.0.1:5000/base/*', GITFAAS_MAX_ENV_ENTRIES: '50', GITFAAS_STACK_PARSE_TIMEOUT: '5s' });
  assert.deepEqual(o.allowedImages, ['alpine', '127.0.0.1:5000/base/*']);
  assert.equal(o.limits.envEntries, 50);
  assert.equal(o.limits.parseTimeoutMs, 5000);
  assert.throws(() => loadBuilderConfig({ GITFAAS_BUILD_ALLOWED_IMAGES: 'alpine,Not An Image' }), (err: Error) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /GITFAAS_BUILD_ALLOWED_IMAGES: expected comma-separated image references/);
    return true;
  });
});

test('GITFAAS_GIT_HOSTS entries are checked, and a bad one is named', () => {
  assert.deepEqual(loadBuilderConfig({ GITFAAS_GIT_HOSTS: ' http://127.0.0.1:9/ , ssh://git.example.com ' }).gitOrigins.github.slice(1), [
    { origin: 'http://127.0.0.1:9', basePath: '' },
    { origin: 'ssh://git.example.com', basePath: '' },
  ]);
  assert.throws(() => loadBuilderConfig({ GITFAAS_GIT_HOSTS: 'file:///srv/git' }), /GITFAAS_GIT_HOSTS: .*only http, https and ssh/);
  assert.throws(() => loadBuilderConfig({ GITFAAS_GIT_HOSTS: 'https://u:p@git.example.com' }), /GITFAAS_GIT_HOSTS: .*no user or password/);
  assert.throws(() => loadBuilderConfig({ GITHUB_URL: 'github.com' }), /GITHUB_URL/);
});
