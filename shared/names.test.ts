import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDnsLabel, ownerNamespace, parseFunctionRef } from './names.js';

test('DNS-1123 labels', () => {
  for (const ok of ['a', 'echo', 'my-fn-2', 'x'.repeat(63)]) assert.ok(isDnsLabel(ok), ok);
  for (const bad of ['', '-a', 'a-', 'A', 'a.b', 'a_b', 'x'.repeat(64), 'ä']) assert.ok(!isDnsLabel(bad), bad);
});

test('NAME.NAMESPACE splits at the first dot', () => {
  assert.deepEqual(parseFunctionRef('echo'), { name: 'echo', namespace: undefined });
  assert.deepEqual(parseFunctionRef('echo.openfaas-fn'), { name: 'echo', namespace: 'openfaas-fn' });
});

test('owner namespaces are valid, stable and never shared', () => {
  assert.equal(ownerNamespace('github', 'Alice'), 'gh-alice');
  assert.equal(ownerNamespace('gitlab', 'alice'), 'gl-alice');
  assert.notEqual(ownerNamespace('github', 'alice'), ownerNamespace('gitlab', 'alice'));
  // OpenFaaS Cloud's prefix scheme made alex + ellis-api and alex-ellis + api collide;
  // namespaces keep owners apart whatever the function names are.
  assert.notEqual(ownerNamespace('github', 'alex'), ownerNamespace('github', 'alex-ellis'));
  const odd = ['a.b', 'a_b', 'a-b', 'A.B', 'x'.repeat(255), 'a--b', 'Zoë'];
  const seen = new Map<string, string>();
  for (const login of odd) {
    const ns = ownerNamespace('gitlab', login);
    assert.ok(isDnsLabel(ns), `${login} -> ${ns}`);
    assert.equal(ownerNamespace('gitlab', login), ns, 'stable');
    const before = seen.get(ns);
    // GitLab logins are case-insensitive: A.B and a.b are one user.
    if (before !== undefined) assert.equal(before.toLowerCase(), login.toLowerCase(), `${before} and ${login} collide`);
    seen.set(ns, login);
  }
  assert.equal(ownerNamespace('gitlab', 'A.B'), ownerNamespace('gitlab', 'a.b'));
});
