// The API server's status answers as the contract's codes, with its reason kept.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiException } from '@kubernetes/client-node';
import { ProviderError } from '../provider.js';
import { toProviderError } from './errors.js';

const status = (code: number, body: object) => new ApiException(code, `HTTP-Code: ${code}`, JSON.stringify({ kind: 'Status', apiVersion: 'v1', code, ...body }), {});

function mapped(err: unknown): ProviderError {
  const out = toProviderError(err, 'function "f" in namespace "n"');
  assert.ok(out instanceof ProviderError, `expected a ProviderError, got ${String(out)}`);
  return out;
}

test('404 NotFound is not_found with the server reason', () => {
  const e = mapped(status(404, { reason: 'NotFound', message: 'deployments.apps "f" not found' }));
  assert.equal(e.code, 'not_found');
  assert.match(e.message, /deployments.apps "f" not found/);
});

test('409 AlreadyExists and a resourceVersion conflict are conflict, told apart', () => {
  const exists = mapped(status(409, { reason: 'AlreadyExists', message: 'deployments.apps "f" already exists' }));
  assert.equal(exists.code, 'conflict');
  assert.match(exists.message, /already exists/);
  const stale = mapped(status(409, { reason: 'Conflict', message: 'the object has been modified' }));
  assert.equal(stale.code, 'conflict');
  assert.match(stale.message, /changed meanwhile.*has been modified/);
});

test('422 Invalid is invalid with every field cause', () => {
  const e = mapped(
    status(422, {
      reason: 'Invalid',
      message: 'Deployment.apps "f" is invalid',
      details: { causes: [{ field: 'metadata.labels', message: 'Invalid value: "a/b"' }, { field: 'spec.replicas', message: 'must be >= 0' }] },
    }),
  );
  assert.equal(e.code, 'invalid');
  assert.match(e.message, /metadata.labels: Invalid value: "a\/b"; spec.replicas: must be >= 0/);
});

test('an unreachable API server is unavailable; 5xx too', () => {
  const refused = Object.assign(new Error('request to https://127.0.0.1:1/apis failed, reason: connect ECONNREFUSED'), { name: 'FetchError', code: 'ECONNREFUSED' });
  assert.equal(mapped(refused).code, 'unavailable');
  assert.equal(mapped(status(503, { message: 'etcd is down' })).code, 'unavailable');
});

test('anything else is left as it is', () => {
  const other = new TypeError('bug');
  assert.equal(toProviderError(other, 'x'), other);
});
