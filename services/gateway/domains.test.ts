import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../../shared/logger.js';
import { DomainClaims, customDomain } from './domains.js';
import { ProviderError, type FunctionStatus } from './providers/provider.js';

const DOMAIN = 'fn.example.com';

test('a custom domain is a lower-cased DNS host name outside the owner-subdomain domain', () => {
  assert.equal(customDomain('API.Example.com', DOMAIN), 'api.example.com');
  assert.equal(customDomain('a.b.example.org', DOMAIN), 'a.b.example.org');
  const refused: Array<[string, RegExp]> = [
    ['example', /not a DNS host name/],
    ['https://api.example.com', /not a DNS host name/],
    ['api.example.com:443', /not a DNS host name/],
    ['api.example.com/x', /not a DNS host name/],
    ['-a.example.com', /not a DNS host name/],
    ['10.0.0.1', /IP address/],
    ['localhost', /not a DNS host name|localhost/],
    ['app.localhost', /localhost/],
    [DOMAIN, /owner subdomains/],
    [`gh-alice.${DOMAIN}`, /owner subdomains/],
  ];
  for (const [value, why] of refused) {
    assert.throws(() => customDomain(value, DOMAIN), (e: Error) => e instanceof ProviderError && e.code === 'invalid' && why.test(e.message), value);
  }
  // Near misses of the owner domain are fine.
  assert.equal(customDomain('evilfn.example.com', DOMAIN), 'evilfn.example.com');
});

test('a host has one holder; settle follows what the function now is', () => {
  const claims = new DomainClaims(DOMAIN, silentLogger());
  let changes = 0;
  claims.onChange = () => changes++;
  const echo = { name: 'echo', namespace: 'gh-alice' };
  claims.take('api.example.com', echo);
  claims.take('api.example.com', echo); // its own claim again
  assert.throws(
    () => claims.take('api.example.com', { name: 'echo', namespace: 'gh-bob' }),
    (e: Error) => e instanceof ProviderError && e.code === 'conflict' && e.message === 'domain api.example.com is held by echo.gh-alice',
  );
  const status = { name: 'echo', namespace: 'gh-alice', annotations: { 'com.gitfaas.domain': 'www.example.com' } } as unknown as FunctionStatus;
  claims.settle(echo, status);
  assert.deepEqual([...claims.hosts.keys()], ['www.example.com']);
  claims.settle(echo, undefined);
  assert.equal(claims.hosts.size, 0);
  assert.ok(changes >= 3);
});

test('two functions claiming one host: every gateway picks the earliest, whatever order it heard them in', () => {
  const claim = (name: string, createdAt: string) =>
    ({ name, namespace: 'gh-x', createdAt, annotations: { 'com.gitfaas.domain': 'both.example.com' } }) as unknown as FunctionStatus;
  const early = claim('early', '2026-01-01T00:00:00.000Z');
  const late = claim('late', '2026-01-02T00:00:00.000Z');
  const one = new DomainClaims(DOMAIN, silentLogger());
  const two = new DomainClaims(DOMAIN, silentLogger());
  one.settle(early, early);
  one.settle(late, late);
  two.settle(late, late);
  two.settle(early, early);
  assert.equal(one.hosts.get('both.example.com')?.name, 'early');
  assert.equal(two.hosts.get('both.example.com')?.name, 'early');
  // The holder goes: the other claimant holds it on both.
  one.settle(early, undefined);
  two.settle(early, undefined);
  assert.equal(one.hosts.get('both.example.com')?.name, 'late');
  assert.equal(two.hosts.get('both.example.com')?.name, 'late');
});
