import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ownerNamespace } from './names.js';
import { labelOfNamespace, namespaceOfLabel, RESERVED_LABELS } from './owner-labels.js';

test('GitHub logins get the bare label; the namespace form keeps working', () => {
  assert.equal(namespaceOfLabel('alice', 'github'), 'gh-alice');
  assert.equal(namespaceOfLabel('gh-alice', 'github'), 'gh-alice');
  assert.equal(namespaceOfLabel('gl-alice', 'github'), 'gl-alice');
  assert.equal(labelOfNamespace('gh-alice', 'github'), 'alice');
  assert.equal(labelOfNamespace('gl-alice', 'github'), 'gl-alice');
  assert.equal(namespaceOfLabel('alice', 'gitlab'), 'gl-alice');
  assert.equal(labelOfNamespace('gl-alice', 'gitlab'), 'alice');
  assert.equal(labelOfNamespace('gh-alice', 'gitlab'), 'gh-alice');
});

test('logins that look like a namespace or a reserved name keep the namespace form', () => {
  // GitHub user "gl-bob" must not take GitLab bob's subdomain, nor "www" the gateway's.
  assert.equal(labelOfNamespace(ownerNamespace('github', 'gl-bob'), 'github'), 'gh-gl-bob');
  assert.equal(namespaceOfLabel('gl-bob', 'github'), 'gl-bob');
  assert.equal(labelOfNamespace(ownerNamespace('github', 'www'), 'github'), 'gh-www');
  assert.equal(namespaceOfLabel('www', 'github'), undefined);
  // A GitLab login that is no DNS label keeps its hash suffix, bare or not.
  assert.match(labelOfNamespace(ownerNamespace('gitlab', 'A.B'), 'gitlab'), /^a-b--[0-9a-f]{8}$/);
  assert.equal(namespaceOfLabel('Not_A-label', 'github'), undefined);
});

test('every owner\'s label leads back to that owner and to no one else', () => {
  const logins = ['alice', 'bob', 'gh-alice', 'gl-alice', 'gl-bob', 'www', 'a-b-c', 'Alice.Smith', 'x'.repeat(39), ...RESERVED_LABELS];
  for (const bare of ['github', 'gitlab', 'none'] as const) {
    const seen = new Map<string, string>();
    for (const scm of ['github', 'gitlab'] as const)
      for (const login of logins) {
        const ns = ownerNamespace(scm, login);
        const label = labelOfNamespace(ns, bare);
        assert.equal(namespaceOfLabel(label, bare), ns, `${bare}: ${scm} ${login} -> ${label}`);
        assert.ok(!seen.has(label) || seen.get(label) === ns, `${bare}: ${label} is both ${seen.get(label)} and ${ns}`);
        seen.set(label, ns);
      }
  }
});
