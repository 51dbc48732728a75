import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Sessions, mayAccess, type Session } from './session.js';

const sessions = new Sessions('k'.repeat(40), 60_000);
const owner: Session = { id: 'abc', user: 'alice', role: 'owner', namespace: 'gh-alice', exp: Date.now() + 60_000 };

test('a session cookie round-trips, and any change to it is refused', () => {
  const cookie = sessions.encode(owner);
  assert.deepEqual(sessions.decode(cookie), owner);
  const [data, signature] = cookie.split('.');
  const promoted = Buffer.from(JSON.stringify({ ...owner, role: 'admin', namespace: undefined })).toString('base64url');
  assert.deepEqual(sessions.decode(`${promoted}.${signature}`), { problem: 'session not valid: sign in again' });
  assert.deepEqual(sessions.decode(`${data}.${signature.slice(1)}x`), { problem: 'session not valid: sign in again' });
  assert.deepEqual(sessions.decode(data), { problem: 'session not valid: sign in again' });
  assert.deepEqual(sessions.decode(undefined), { problem: 'not signed in' });
  assert.deepEqual(new Sessions('j'.repeat(40), 60_000).decode(cookie), { problem: 'session not valid: sign in again' });
});

test('an expired session is refused even with a good signature', () => {
  const cookie = sessions.encode({ ...owner, exp: Date.now() - 1 });
  assert.deepEqual(sessions.decode(cookie), { problem: 'session expired: sign in again' });
});

test('CSRF tokens are per session and an owner may access only their namespace', () => {
  assert.notEqual(sessions.csrfToken(owner), sessions.csrfToken({ ...owner, id: 'other' }));
  assert.equal(mayAccess(owner, 'gh-alice'), true);
  assert.equal(mayAccess(owner, 'gh-bob'), false);
  assert.equal(mayAccess({ ...owner, role: 'admin', namespace: undefined }, 'gh-bob'), true);
});
