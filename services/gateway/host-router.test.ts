import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normaliseHost, routeByHost } from './host-router.js';

const options = {
  domain: 'fn.example.com',
  customDomains: new Map([['api.example.com', { name: 'echo', namespace: 'gh-alice' }]]),
};

test('owner subdomain and function path', () => {
  assert.deepEqual(routeByHost('gh-alice.fn.example.com', '/echo/a/b', options), {
    kind: 'function', namespace: 'gh-alice', name: 'echo', path: '/a/b',
  });
  assert.deepEqual(routeByHost('gh-alice.fn.example.com', '/echo', options), {
    kind: 'function', namespace: 'gh-alice', name: 'echo', path: '/',
  });
  assert.deepEqual(routeByHost('gh-alice.fn.example.com', '/', options), { kind: 'index', namespace: 'gh-alice' });
});

test('hosts are case-insensitive, ports and a trailing dot are ignored', () => {
  for (const host of ['GH-ALICE.fn.example.com', 'gh-alice.fn.example.com:8080', 'gh-alice.FN.example.com.']) {
    assert.deepEqual(routeByHost(host, '/echo/x', options), { kind: 'function', namespace: 'gh-alice', name: 'echo', path: '/x' }, host);
  }
});

test('hosts that only look like ours are not ours', () => {
  for (const host of ['gh-alice.fn.example.com.evil.test', 'fn.example.com', 'evilfn.example.com', 'example.com', '127.0.0.1:8080', '[::1]:8080', 'a..fn.example.com', 'gh-alice.fn.example.com:80x']) {
    assert.equal(routeByHost(host, '/echo', options), undefined, host);
  }
});

test('a function segment can never name another namespace', () => {
  const dotted = routeByHost('gh-alice.fn.example.com', '/echo.gh-bob/x', options);
  assert.equal(dotted?.kind, 'not-found');
  const nested = routeByHost('gh-bob.gh-alice.fn.example.com', '/echo', options);
  assert.equal(nested?.kind, 'not-found');
  // A function named like another owner's namespace stays in the subdomain's namespace.
  assert.deepEqual(routeByHost('gh-alice.fn.example.com', '/gh-bob/echo', options), {
    kind: 'function', namespace: 'gh-alice', name: 'gh-bob', path: '/echo',
  });
});

test('custom domains map a whole host to one function', () => {
  assert.deepEqual(routeByHost('API.example.com:443', '/v1/users', options), {
    kind: 'function', namespace: 'gh-alice', name: 'echo', path: '/v1/users',
  });
  assert.equal(routeByHost('api.example.com.evil.test', '/v1', options), undefined);
});

test('normaliseHost refuses malformed hosts', () => {
  assert.equal(normaliseHost(undefined), undefined);
  assert.equal(normaliseHost('a b'), undefined);
  assert.equal(normaliseHost('a.com:99999x'), undefined);
  assert.equal(normaliseHost('A.Com'), 'a.com');
});
