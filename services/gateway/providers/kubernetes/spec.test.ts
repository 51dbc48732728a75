// Deployment and Service shaping, checked against the Kubernetes OpenAPI schemas
// (kubernetes-models) and against what faas-netes tooling relies on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Service } from 'kubernetes-models/v1';
import { ProviderError, type NamespacedDeployment } from '../provider.js';
import { deploymentFor, initialReplicas, serviceFor, statusFromDeployment, validateDeployment } from './spec.js';

const full: NamespacedDeployment = {
  service: 'hello',
  namespace: 'gh-alice',
  image: '127.0.0.1:5000/alice/hello:abc',
  envProcess: 'node index.js',
  envVars: { A: '1', B: 'two' },
  secrets: ['api-key', 'db'],
  constraints: ['disktype=ssd'],
  labels: { team: 'x', 'com.openfaas.scale.min': '2', 'com.openfaas.cloud.git-sha': 'abc123' },
  annotations: { note: 'y', 'topic': 'orders' },
  limits: { memory: '128Mi', cpu: '500m' },
  requests: { memory: '64Mi', cpu: '0.1' },
  readOnlyRootFilesystem: true,
};
const opts = { instance: 'default', pullSecret: true };

test('the Deployment validates against the apps/v1 schema and is shaped like faas-netes', () => {
  const dep = deploymentFor(full, initialReplicas(full, 20), opts);
  new Deployment(dep as never).validate();
  assert.equal(dep.spec?.replicas, 2);
  assert.deepEqual(dep.spec?.selector.matchLabels, { faas_function: 'hello' });
  assert.equal(dep.spec?.template.metadata?.labels?.faas_function, 'hello');
  assert.equal(dep.metadata?.labels?.team, 'x');
  assert.equal(dep.metadata?.labels?.['gitfaas.dev/instance'], 'default');
  assert.equal(dep.metadata?.labels?.['com.openfaas.cloud.git-sha'], 'abc123');
  assert.equal(dep.metadata?.annotations?.note, 'y');
  assert.deepEqual(dep.spec?.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
  const c = dep.spec!.template.spec!.containers[0];
  assert.deepEqual(c.ports, [{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
  assert.equal(c.readinessProbe?.httpGet?.path, '/_/health');
  assert.equal(c.livenessProbe?.httpGet?.path, '/_/health');
  assert.deepEqual(c.resources, { limits: { memory: '128Mi', cpu: '500m' }, requests: { memory: '64Mi', cpu: '0.1' } });
  assert.ok(c.env?.some((e) => e.name === 'fprocess' && e.value === 'node index.js'));
  assert.equal(c.securityContext?.readOnlyRootFilesystem, true);
  assert.deepEqual(c.volumeMounts, [
    { name: 'secrets', mountPath: '/var/openfaas/secrets', readOnly: true },
    { name: 'tmp', mountPath: '/tmp' },
  ]);
  const volumes = dep.spec!.template.spec!.volumes!;
  assert.deepEqual(volumes[0].projected?.sources?.map((s) => s.secret?.items?.[0]), [
    { key: 'api-key', path: 'api-key' },
    { key: 'db', path: 'db' },
  ]);
  assert.deepEqual(volumes[1], { name: 'tmp', emptyDir: {} });
  assert.deepEqual(dep.spec!.template.spec!.imagePullSecrets, [{ name: 'gitfaas-registry-credentials' }]);
  assert.deepEqual(dep.spec!.template.spec!.nodeSelector, { disktype: 'ssd' });
});

test('the Service validates against the v1 schema and selects the pods by faas_function on port http', () => {
  const svc = serviceFor(full, opts);
  new Service(svc as never).validate();
  assert.deepEqual(svc.spec?.selector, { faas_function: 'hello' });
  assert.deepEqual(svc.spec?.ports, [{ name: 'http', port: 8080, targetPort: 'http', protocol: 'TCP' }]);
});

test('a minimal deployment validates too, without volumes or pull secrets', () => {
  const d: NamespacedDeployment = { service: 'tiny', namespace: 'openfaas-fn', image: 'nginx' };
  const dep = deploymentFor(d, initialReplicas(d, 20), { instance: 'i', pullSecret: false });
  new Deployment(dep as never).validate();
  assert.equal(dep.spec?.replicas, 1);
  assert.deepEqual(dep.spec!.template.spec!.volumes, []);
  assert.equal(dep.spec!.template.spec!.imagePullSecrets, undefined);
});

test('the status read back from the Deployment is the deployment that was written', () => {
  const dep = deploymentFor(full, 2, opts);
  dep.metadata!.creationTimestamp = new Date('2026-01-02T03:04:05Z');
  // The controller adds its own annotation; it is not the user's.
  dep.metadata!.annotations!['deployment.kubernetes.io/revision'] = '3';
  const s = statusFromDeployment(dep);
  assert.equal(s.name, 'hello');
  assert.equal(s.namespace, 'gh-alice');
  assert.equal(s.image, full.image);
  assert.equal(s.envProcess, 'node index.js');
  assert.deepEqual(s.envVars, full.envVars);
  assert.deepEqual(s.secrets, full.secrets);
  assert.deepEqual(s.constraints, full.constraints);
  assert.deepEqual(s.labels, full.labels);
  assert.deepEqual(s.annotations, full.annotations);
  assert.deepEqual(s.limits, full.limits);
  assert.deepEqual(s.requests, full.requests);
  assert.equal(s.readOnlyRootFilesystem, true);
  assert.equal(s.replicas, 2);
  assert.equal(s.createdAt, '2026-01-02T03:04:05.000Z');
});

test('bad input is refused before anything reaches the API server, naming the field', () => {
  const base: NamespacedDeployment = { service: 'ok', namespace: 'n', image: 'nginx' };
  const invalid = (d: NamespacedDeployment, pattern: RegExp) =>
    assert.throws(() => validateDeployment(d), (err: unknown) => err instanceof ProviderError && err.code === 'invalid' && pattern.test(err.message));
  invalid({ ...base, service: 'Bad_Name' }, /service "Bad_Name"/);
  invalid({ ...base, image: '' }, /image is required/);
  invalid({ ...base, labels: { faas_function: 'other' } }, /"faas_function" is reserved/);
  invalid({ ...base, labels: { 'gitfaas.dev/instance': 'other' } }, /reserved/);
  invalid({ ...base, limits: { memory: 'lots' } }, /limits.memory "lots"/);
  invalid({ ...base, requests: { cpu: '0' } }, /requests.cpu "0"/);
  invalid({ ...base, constraints: ['no equals sign'] }, /constraint "no equals sign"/);
  assert.throws(() => initialReplicas({ ...base, labels: { 'com.openfaas.scale.min': 'x' } }, 20), /com.openfaas.scale.min/);
});
