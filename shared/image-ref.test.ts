import assert from 'node:assert/strict';
import { test } from 'node:test';
import { imageReferenceProblem, parseImageReference } from './image-ref.js';

test('valid references parse into domain, path, tag and digest', () => {
  assert.deepEqual(parseImageReference('127.0.0.1:5000/gh-alice/hello:abc123'), {
    domain: '127.0.0.1:5000', path: 'gh-alice/hello', tag: 'abc123', digest: undefined,
  });
  assert.deepEqual(parseImageReference('alpine'), { domain: undefined, path: 'alpine', tag: undefined, digest: undefined });
  const digest = `sha256:${'a'.repeat(64)}`;
  assert.deepEqual(parseImageReference(`localhost/a__b/c-d.e@${digest}`), { domain: 'localhost', path: 'a__b/c-d.e', tag: undefined, digest });
  for (const ok of ['ghcr.io/openfaas/of-watchdog:0.9.15', 'library/node:20-alpine', '[::1]:5000/x/y:1', 'a---b/c_d:latest', 'registry.example.com/x']) {
    assert.equal(imageReferenceProblem(ok), undefined, ok);
  }
});

test('hostile and malformed references are refused with the reason', () => {
  const cases: Array<[string, RegExp]> = [
    ['127.0.0.1:5000//bars/echo:1', /empty path component/],
    ['127.0.0.1:5000/Bars/echo:1', /uppercase path component "Bars"/],
    ['127.0.0.1:5000/../echo:1', /"\.\." path component/],
    ['127.0.0.1:5000/a/./b', /"\." path component/],
    [`x/${'a'.repeat(300)}`, /at most 255/],
    ['a'.repeat(5000), /characters long/],
    ['alpine@sha256:abc', /invalid digest/],
    [`alpine@sha256:${'a'.repeat(63)}`, /64 hex digits, got 63/],
    ['alpine@sha256', /invalid digest/],
    ['alp ine:1', /whitespace/],
    ['http://127.0.0.1:5000/x:1', /is a URL/],
    ['alpine:-bad', /invalid tag/],
    [`alpine:${'t'.repeat(129)}`, /invalid tag/],
    ['reg.example.com:99999/x', /invalid registry port/],
    ['-bad.example.com/x', /invalid registry host/],
    ['x/y/', /empty path component/],
    ['', /is empty/],
    [':1', /no repository name/],
    ['a..b/c', /invalid registry host/],
    ['x/a--/b', /invalid path component/],
  ];
  for (const [ref, reason] of cases) {
    const problem = imageReferenceProblem(ref);
    assert.ok(problem, `${ref.slice(0, 40)} must be refused`);
    assert.match(problem!, reason, ref.slice(0, 40));
  }
  assert.throws(() => parseImageReference('x/Up'), /image "x\/Up" has an uppercase path component "Up"/);
});
