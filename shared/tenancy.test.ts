import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCpu, parseMemory } from './quantity.js';
import { DEFAULT_QUOTAS, limitsWithDefaults, tenancyProblems, type TenancyCheck } from './tenancy.js';

const base = (over: Partial<TenancyCheck>): TenancyCheck => ({
  namespace: 'gh-alice',
  functions: [{ name: 'echo' }],
  otherFunctionsOfOwner: 0,
  quotas: DEFAULT_QUOTAS,
  ...over,
});

test('quantities', () => {
  assert.equal(parseMemory('128Mi'), 128 * 1024 * 1024);
  assert.equal(parseMemory('1G'), 1e9);
  assert.equal(parseMemory('12x'), undefined);
  assert.equal(parseCpu('500m'), 0.5);
  assert.equal(parseCpu('2'), 2);
  assert.equal(parseCpu('two'), undefined);
});

test('a plain function in its own namespace passes', () => {
  assert.deepEqual(tenancyProblems(base({ functions: [{ name: 'echo', namespace: 'gh-alice', labels: { tier: 'web' } }] })), []);
});

test('another namespace, dotted names and reserved keys are refused', () => {
  const problems = tenancyProblems(
    base({
      functions: [
        { name: 'echo', namespace: 'gh-bob' },
        { name: 'a.b' },
        { name: 'ok', labels: { 'com.openfaas.cloud.git-owner': 'bob' }, annotations: { 'com.gitfaas.managed': 'true', 'com.gitfaas.domain': 'api.example.com' } },
      ],
    }),
  );
  assert.equal(problems.length, 4, problems.join('\n'));
  assert.match(problems[0]!, /function echo: namespace "gh-bob" is not this owner's namespace/);
  assert.match(problems[1]!, /function a\.b: name must be a DNS-1123 label/);
  assert.match(problems[2]!, /labels\.com\.openfaas\.cloud\.git-owner is reserved/);
  assert.match(problems[3]!, /annotations\.com\.gitfaas\.managed is reserved/);
});

test('quotas: functions per owner, replicas, memory and cpu', () => {
  const quotas = { ...DEFAULT_QUOTAS, functionsPerOwner: 2, replicasPerFunction: 3 };
  const problems = tenancyProblems(
    base({
      quotas,
      otherFunctionsOfOwner: 2,
      functions: [{ name: 'big', labels: { 'com.openfaas.scale.max': '10' }, limits: { memory: '8Gi', cpu: '4' } }],
    }),
  );
  assert.equal(problems.length, 4, problems.join('\n'));
  assert.match(problems[0]!, /quota functionsPerOwner: gh-alice would run 3 functions, the quota is 2/);
  assert.match(problems[1]!, /com\.openfaas\.scale\.max "10" is outside the quota replicasPerFunction \(0 to 3\)/);
  assert.match(problems[2]!, /limits\.memory 8Gi is over the quota maxMemory/);
  assert.match(problems[3]!, /limits\.cpu 4 is over the quota maxCpu/);
  assert.deepEqual(tenancyProblems(base({ quotas, functions: [{ name: 'x', labels: { 'com.openfaas.scale.max': '3' } }] })), []);
});

test('default limits fill in what stack.yml leaves out', () => {
  assert.deepEqual(limitsWithDefaults(undefined, DEFAULT_QUOTAS), { memory: '256Mi', cpu: '500m' });
  assert.deepEqual(limitsWithDefaults({ memory: '64Mi' }, DEFAULT_QUOTAS), { memory: '64Mi', cpu: '500m' });
});

test('quotas come from the environment, and a bad one is named', async () => {
  const { parseEnv } = await import('./config.js');
  const { z } = await import('zod');
  const { quotaEnvShape, quotasFromEnv } = await import('./tenancy.js');
  const schema = z.object(quotaEnvShape);
  assert.deepEqual(quotasFromEnv(parseEnv(schema, {})), DEFAULT_QUOTAS);
  assert.equal(quotasFromEnv(parseEnv(schema, { GITFAAS_QUOTA_FUNCTIONS: '3' })).functionsPerOwner, 3);
  assert.throws(() => parseEnv(schema, { GITFAAS_QUOTA_MAX_MEMORY: 'lots' }), /GITFAAS_QUOTA_MAX_MEMORY: expected a quantity such as 1Gi/);
});
