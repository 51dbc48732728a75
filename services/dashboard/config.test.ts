import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadDashboardConfig, sessionSecretFor } from './config.js';

test('dashboard defaults: 12 h sessions, secret derived from the admin password, no OAuth, anyone may sign in', () => {
  const dashboard = loadDashboardConfig({});
  assert.equal(dashboard.sessionTtlMs, 12 * 3600 * 1000);
  assert.equal(dashboard.sessionSecret, undefined);
  assert.equal(dashboard.github, undefined);
  assert.equal(dashboard.gitlab, undefined);
  assert.deepEqual(dashboard.customers, { kind: 'anyone' });
  const derived = sessionSecretFor(dashboard, 'pw');
  assert.notEqual(derived, 'pw');
  assert.notEqual(derived, sessionSecretFor(dashboard, 'other password'), 'a new admin password ends every session');
});

test('OAuth clients: endpoints for GitHub Enterprise and self-managed GitLab, secrets from files', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gitfaas-dash-config-'));
  try {
    await writeFile(path.join(dir, 'gh'), 'gh-secret\n');
    const dashboard = loadDashboardConfig({
      GITHUB_OAUTH_CLIENT_ID: 'Iv1.abc',
      GITHUB_OAUTH_CLIENT_SECRET_FILE: path.join(dir, 'gh'),
      GITHUB_OAUTH_URL: 'https://ghe.example.com/',
      GITHUB_API_URL: 'https://ghe.example.com/api/v3',
      GITLAB_OAUTH_CLIENT_ID: 'gl-id',
      GITLAB_OAUTH_CLIENT_SECRET: 'gl-secret',
      GITLAB_URL: 'https://gitlab.example.com',
      GITFAAS_DASHBOARD_SESSION_TTL: '30m',
      GITFAAS_DASHBOARD_PUBLIC_URL: 'https://fn.example.com/',
    });
    assert.deepEqual(dashboard.github, { clientId: 'Iv1.abc', clientSecret: 'gh-secret', webUrl: 'https://ghe.example.com', apiUrl: 'https://ghe.example.com/api/v3' });
    assert.deepEqual(dashboard.gitlab, { clientId: 'gl-id', clientSecret: 'gl-secret', webUrl: 'https://gitlab.example.com', apiUrl: 'https://gitlab.example.com/api/v4' });
    assert.equal(dashboard.sessionTtlMs, 30 * 60 * 1000);
    assert.equal(dashboard.publicUrl, 'https://fn.example.com');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('bad dashboard settings name their variable', () => {
  assert.throws(() => loadDashboardConfig({ GITHUB_OAUTH_CLIENT_ID: 'x' }), /GITHUB_OAUTH_CLIENT_ID and GITHUB_OAUTH_CLIENT_SECRET/);
  assert.throws(() => loadDashboardConfig({ GITFAAS_DASHBOARD_SESSION_SECRET: 'short' }), /GITFAAS_DASHBOARD_SESSION_SECRET: expected at least 32/);
  assert.throws(() => loadDashboardConfig({ GITFAAS_DASHBOARD_SESSION_TTL: 'soon' }), /GITFAAS_DASHBOARD_SESSION_TTL/);
  assert.throws(() => loadDashboardConfig({ GITFAAS_CUSTOMERS: 'a', GITFAAS_CUSTOMERS_FILE: '/x' }), /both set/);
  assert.throws(() => loadDashboardConfig({ GITLAB_URL: 'gitlab.example.com' }), /GITLAB_URL/);
});
