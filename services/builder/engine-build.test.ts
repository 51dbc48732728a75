// Reading the Docker engine's BuildKit progress (messages captured from this machine's
// dockerd 20.10) and turning build errors into one status line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeTrace, TracePrinter } from './buildkit-trace.js';
import { causeLines, summarizeBuildError } from './engine-build.js';

// {"id":"moby.buildkit.trace","aux":...} as dockerd sent them during a build.
const STARTED =
  'CosBCkdzaGEyNTY6NWQzNmE1YmIzODg2ZTIwYjI3NjVlNGFjMzQxOTNjOGU0MjAwMDI3NGQ5OWUyNjFmMmMwOGRmNzhjNDkxYTI1NBokW2ludGVybmFsXSBsb2FkIHJlbW90ZSBidWlsZCBjb250ZXh0KgwIzPOg2AYQv8qXowIyDAjM86DYBhDz/s+pAg==';
const LOG = 'Gl4KR3NoYTI1Njo0MjFlY2IxZTQ3NTg0NjQ0MDIwYmI1NTBkMzdiNTgxZmM0NGExOWJjYmUxNmVlODNlZTJmZDE3NTM0YTk2OThiEgwIzPOg2AYQtPuSwwMYASIDaGkK';

test('decodes vertexes and logs from captured trace messages', () => {
  const started = decodeTrace(STARTED);
  assert.equal(started.vertexes.length, 1);
  assert.equal(started.vertexes[0].name, '[internal] load remote build context');
  assert.match(started.vertexes[0].digest, /^sha256:5d36a5bb/);
  assert.equal(started.vertexes[0].started, true);
  assert.equal(started.vertexes[0].completed, true);
  const log = decodeTrace(LOG);
  assert.deepEqual(log.logs.map((l) => l.msg), ['hi\n']);
  assert.match(log.logs[0].vertex, /^sha256:421ecb1e/);
});

test('prints steps like --progress=plain, splitting output into lines', () => {
  const p = new TracePrinter();
  assert.deepEqual(p.lines(decodeTrace(STARTED)), ['#1 [internal] load remote build context', '#1 DONE']);
  assert.deepEqual(p.lines(decodeTrace(STARTED)), [], 'each transition once');
  assert.deepEqual(p.lines(decodeTrace(LOG)), ['#2 hi']);
  assert.deepEqual(p.lines({ vertexes: [{ digest: 'd3', name: '[2/3] RUN x', cached: true, started: true, completed: true }], logs: [] }), ['#3 [2/3] RUN x', '#3 CACHED']);
  assert.deepEqual(p.cachedSteps, ['[2/3] RUN x']);
  assert.deepEqual(p.lines({ vertexes: [], logs: [{ vertex: 'd3', msg: 'partial' }] }), []);
  assert.deepEqual(p.flush(), ['#3 partial']);
  assert.deepEqual(
    p.lines({ vertexes: [{ digest: 'd4', name: '[3/3] RUN false', cached: false, started: true, completed: true, error: 'exit code: 1' }], logs: [] }),
    ['#4 [3/3] RUN false', '#4 ERROR: exit code: 1'],
  );
});

test('BuildKit errors become one short line for a status', async () => {
  assert.equal(
    summarizeBuildError("executor failed running [/bin/sh -c npm install --omit=dev && echo a-very-long-command-line-that-goes-on]: exit code: 127"),
    'RUN npm install --omit=dev && echo a-very-long-comm… exited with code 127',
  );
  assert.equal(summarizeBuildError('process "/bin/sh -c make" did not complete successfully: exit code: 2'), 'RUN make exited with code 2');
  assert.equal(
    summarizeBuildError('failed to solve with frontend dockerfile.v0: failed to create LLB definition: dockerfile parse error line 1: unknown instruction: FORM'),
    'Dockerfile: dockerfile parse error line 1: unknown instruction: FORM',
  );
});

test("a failed step's cause: the failure's lines, whichever order stdout and stderr came in", () => {
  const bash = ['bash: connect: Connection refused', 'bash: line 1: /dev/tcp/127.0.0.1/8222: Connection refused'];
  assert.deepEqual(causeLines(['run 1', ...bash]), bash);
  assert.deepEqual(causeLines([...bash, 'run 1']), bash);
  assert.deepEqual(causeLines(['npm error code E404', 'npm error 404 Not Found - GET http://127.0.0.1/x', 'done']), ['npm error 404 Not Found - GET http://127.0.0.1/x']);
  assert.deepEqual(causeLines(['building', 'step 3 of 3']), ['step 3 of 3']);
});
