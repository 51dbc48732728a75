// splitFunctionUrl(): the proxy's first step on every /function/* call, without a URL parser.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitFunctionUrl } from './proxy.js';

test('/function/{ref}[/{path}][?{query}] splits into the reference and what the replica gets', () => {
  for (const [url, ref, path] of [
    ['/function/echo', 'echo', '/'],
    ['/function/echo/', 'echo', '/'],
    ['/function/echo.ns', 'echo.ns', '/'],
    ['/function/echo.ns/a/b?x=1', 'echo.ns', '/a/b?x=1'],
    ['/function/echo?x=1', 'echo', '/?x=1'],
    // A "/" inside the query does not end the reference; the first "?" does.
    ['/function/echo?next=/a/b', 'echo', '/?next=/a/b'],
    ['/function/echo.ns?', 'echo.ns', '/?'],
    ['/function/echo/?', 'echo', '/?'],
    ['/function/', '', '/'],
  ] as const) {
    assert.deepEqual(splitFunctionUrl(url), { ref, path }, url);
  }
});
