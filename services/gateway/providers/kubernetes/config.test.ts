// Configuration mistakes fail at start, naming the variable to fix.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ConfigError } from '../../../../shared/config.js';
import { kubeConfigFrom, loadKubernetesConfig } from './config.js';

let dir: string;
let good: string;
const KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: { server: "http://127.0.0.1:6443" }
users:
- name: me
  user: { token: "t" }
contexts:
- name: dev
  context: { cluster: local, user: me }
- name: other
  context: { cluster: local, user: me }
current-context: dev
`;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'gitfaas-kubeconfig-'));
  good = path.join(dir, 'config');
  await writeFile(good, KUBECONFIG);
});
after(() => rm(dir, { recursive: true, force: true }));

const fails = (env: Record<string, string>, pattern: RegExp) =>
  assert.throws(() => kubeConfigFrom(loadKubernetesConfig(env)), (err: unknown) => err instanceof ConfigError && pattern.test(err.message));

test('a kubeconfig and a context are used as given', () => {
  const kc = kubeConfigFrom(loadKubernetesConfig({ GITFAAS_KUBECONFIG: good, GITFAAS_KUBE_CONTEXT: 'other' }));
  assert.equal(kc.getCurrentContext(), 'other');
  assert.equal(kc.getCurrentCluster()?.server, 'http://127.0.0.1:6443');
});

test('no kubeconfig and not in a cluster names GITFAAS_KUBECONFIG', () => {
  fails({}, /set GITFAAS_KUBECONFIG/);
});

test('an unreadable or broken kubeconfig names GITFAAS_KUBECONFIG', async () => {
  fails({ GITFAAS_KUBECONFIG: path.join(dir, 'absent') }, /GITFAAS_KUBECONFIG: cannot read .*absent \(ENOENT\)/);
  const broken = path.join(dir, 'broken');
  await writeFile(broken, 'clusters: [unclosed');
  fails({ GITFAAS_KUBECONFIG: broken }, /GITFAAS_KUBECONFIG: .*broken is not a valid kubeconfig/);
});

test('an unknown context names GITFAAS_KUBE_CONTEXT and lists the known ones', () => {
  fails({ GITFAAS_KUBECONFIG: good, GITFAAS_KUBE_CONTEXT: 'prod' }, /GITFAAS_KUBE_CONTEXT: no context "prod" .*dev, other/);
});

test('registry credentials must be a Docker config JSON, from the variable or its _FILE, never echoed', async () => {
  const secret = '{"auths":{"127.0.0.1:5000":{"auth":"dTpw"}}}';
  assert.equal(loadKubernetesConfig({ GITFAAS_KUBE_IMAGE_PULL_SECRET: secret }).imagePullSecret, secret);
  const file = path.join(dir, 'pull');
  await writeFile(file, secret);
  assert.equal(loadKubernetesConfig({ GITFAAS_KUBE_IMAGE_PULL_SECRET_FILE: file }).imagePullSecret, secret);
  assert.throws(
    () => loadKubernetesConfig({ GITFAAS_KUBE_IMAGE_PULL_SECRET: 'hunter2-not-json' }),
    (err: unknown) => err instanceof ConfigError && /GITFAAS_KUBE_IMAGE_PULL_SECRET: expected a Docker config JSON/.test(err.message) && !err.message.includes('hunter2'),
  );
});
