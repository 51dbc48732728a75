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

test('bare labels: alice.<domain> is GitHub\'s alice; the namespace form and the other host\'s form keep working', () => {
  const bare = { ...options, bareLabels: 'github' as const };
  assert.deepEqual(routeByHost('alice.fn.example.com', '/echo/x', bare), { kind: 'function', namespace: 'gh-alice', name: 'echo', path: '/x' });
  assert.deepEqual(routeByHost('Alice.fn.example.com', '/', bare), { kind: 'index', namespace: 'gh-alice' });
  assert.deepEqual(routeByHost('gh-alice.fn.example.com', '/echo', bare), { kind: 'function', namespace: 'gh-alice', name: 'echo', path: '/' });
  assert.deepEqual(routeByHost('gl-alice.fn.example.com', '/echo', bare), { kind: 'function', namespace: 'gl-alice', name: 'echo', path: '/' });
  // A label with an owner prefix is a namespace, never a login: GitHub's "gl-bob" is gh-gl-bob.
  assert.deepEqual(routeByHost('gl-bob.fn.example.com', '/echo', bare), { kind: 'function', namespace: 'gl-bob', name: 'echo', path: '/' });
  assert.deepEqual(routeByHost('gh-gl-bob.fn.example.com', '/echo', bare), { kind: 'function', namespace: 'gh-gl-bob', name: 'echo', path: '/' });
  // Reserved names belong to no owner; nested labels never reach anyone.
  assert.equal(routeByHost('www.fn.example.com', '/echo', bare)?.kind, 'not-found');
  assert.equal(routeByHost('bob.alice.fn.example.com', '/echo', bare)?.kind, 'not-found');
  assert.match((routeByHost('www.fn.example.com', '/', bare) as { message: string }).message, /expected <github login> or <owner namespace>\.fn\.example\.com/);
  const gitlab = { ...options, bareLabels: 'gitlab' as const };
  assert.deepEqual(routeByHost('alice.fn.example.com', '/echo', gitlab), { kind: 'function', namespace: 'gl-alice', name: 'echo', path: '/' });
  // Without bare labels the label is the namespace, as before.
  assert.deepEqual(routeByHost('alice.fn.example.com', '/echo', options), { kind: 'function', namespace: 'alice', name: 'echo', path: '/' });
});
