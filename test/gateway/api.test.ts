// The OpenFaaS REST API and the proxy, against the real Docker engine and registry.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { fixtureImage } from '../helpers/images.js';
import { waitFor } from '../helpers/wait.js';
import { call, deployment, invoke } from './client.js';

const docker = new Docker();
let gw: TestGateway;
let image: string;

const containers = (name: string, namespace: string) =>
  docker.listContainers({ all: true, filters: { label: [`com.gitfaas.function=${name}`, `com.gitfaas.namespace=${namespace}`] } });

before(async () => {
  image = await fixtureImage('echo');
  gw = await startTestGateway();
});
after(() => gw?.stop());

describe('deploy, list, get, invoke', () => {
  test('a deployed function is listed, described and answers every method with what it was sent', async () => {
    const res = await call(gw, 'POST', '/system/functions', deployment(gw, 'echo', image, {
      envVars: { VERSION: 'v7' },
      labels: { 'com.openfaas.cloud.git-owner': 'alice' },
      annotations: { topic: 'tests' },
      limits: { memory: '64Mi', cpu: '500m' },
      readOnlyRootFilesystem: true,
    }));
    assert.equal(res.status, 202, res.text);

    const list = await call(gw, 'GET', `/system/functions?namespace=${gw.namespace}`);
    assert.equal(list.status, 200);
    const [fn] = list.json();
    assert.equal(fn.name, 'echo');
    assert.equal(fn.namespace, gw.namespace);
    assert.equal(fn.image, image);
    assert.equal(fn.replicas, 1);
    assert.equal(fn.availableReplicas, 1);
    assert.deepEqual(fn.envVars, { VERSION: 'v7' });
    assert.deepEqual(fn.labels, { 'com.openfaas.cloud.git-owner': 'alice' });
    assert.deepEqual(fn.annotations, { topic: 'tests' });
    assert.deepEqual(fn.limits, { memory: '64Mi', cpu: '500m' });
    assert.equal(fn.readOnlyRootFilesystem, true);

    const [c] = await containers('echo', gw.namespace);
    const info = await docker.getContainer(c.Id).inspect();
    assert.equal(info.HostConfig.Memory, 64 * 2 ** 20);
    assert.equal(info.HostConfig.NanoCpus, 5e8);
    assert.equal(info.HostConfig.ReadonlyRootfs, true);
    assert.equal(info.Config.Labels['com.gitfaas.managed'], 'true');
    assert.equal(info.Config.Labels['com.openfaas.cloud.git-owner'], 'alice');
    const binding = info.HostConfig.PortBindings['8080/tcp'][0];
    assert.equal(binding.HostIp, '127.0.0.1');

    const one = await call(gw, 'GET', `/system/function/echo?namespace=${gw.namespace}`);
    assert.equal(one.status, 200);
    assert.equal(one.json().name, 'echo');

    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) {
      const answer = await invoke(gw, `echo.${gw.namespace}/some/path?a=1&b=two`, {
        method,
        headers: { 'x-custom': 'kept', 'x-call-id': 'call-123' },
        body: method === 'GET' ? undefined : 'hello',
      });
      assert.equal(answer.status, 200, answer.text);
      const seen = answer.json();
      assert.equal(seen.method, method);
      assert.equal(seen.path, '/some/path');
      assert.deepEqual(seen.query, { a: '1', b: 'two' });
      assert.equal(seen.headers['x-custom'], 'kept');
      assert.equal(seen.headers['x-call-id'], 'call-123');
      assert.equal(seen.version, 'v7');
      assert.equal(answer.headers.get('x-call-id'), 'call-123');
      if (method !== 'GET') assert.equal(seen.bodyBytes, 5);
    }
    const count = (await call(gw, 'GET', `/system/function/echo?namespace=${gw.namespace}`)).json().invocationCount;
    assert.equal(count, 5);
  });

  test('the proxy adds forwarding headers, makes a call id and drops hop-by-hop headers', async () => {
    // fetch will not send a Connection header; node's http client will.
    const answer = await new Promise<{ callId: string; body: string }>((resolve, reject) => {
      http
        .get(`${gw.url}/function/echo.${gw.namespace}`, { headers: { 'x-drop-me': 'no', connection: 'keep-alive, x-drop-me' }, agent: false }, (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ callId: String(res.headers['x-call-id']), body }));
        })
        .on('error', reject);
    });
    const seen = JSON.parse(answer.body);
    assert.equal(seen.path, '/');
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen.headers['x-forwarded-host'], new URL(gw.url).host);
    assert.match(seen.headers['x-call-id'], /^[0-9a-f-]{36}$/);
    assert.equal(answer.callId, seen.headers['x-call-id']);
    assert.equal(seen.headers['keep-alive'], undefined);
    assert.ok(Math.abs(Number(seen.headers['x-start-time']) / 1e6 - Date.now()) < 10_000, 'X-Start-Time is in nanoseconds, now');
    assert.equal(seen.headers['x-drop-me'], undefined, 'headers named in Connection are hop-by-hop');
    assert.equal(seen.headers['x-custom'], undefined);
  });

  test('the function status code and the default namespace pass through', async () => {
    assert.equal((await invoke(gw, `echo.${gw.namespace}?status=418`)).status, 418);
    assert.equal((await invoke(gw, 'echo')).status, 404, 'echo does not exist in openfaas-fn');
  });

  test('a 10 MB POST is streamed to the function and back, both ways at once', async () => {
    const chunk = Buffer.alloc(1 << 20, 7);
    const chunks = 10;
    const sent = createHash('sha256');
    const received = createHash('sha256');
    let receivedBytes = 0;
    await new Promise<void>((resolve, reject) => {
      const req = http.request(`${gw.url}/function/echo.${gw.namespace}?echo=1`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' } });
      req.on('error', reject);
      let written = 0;
      const writeNext = () => {
        sent.update(chunk);
        written += 1;
        if (written === chunks) req.end(chunk);
        else req.write(chunk);
      };
      req.on('response', (res) => {
        assert.equal(res.statusCode, 200);
        res.on('data', (data: Buffer) => {
          received.update(data);
          receivedBytes += data.length;
          // The next chunk goes out only once part of the last came back: a gateway that
          // buffered either body whole would never answer.
          if (written < chunks && receivedBytes >= written * chunk.length - chunk.length / 2) writeNext();
        });
        res.on('end', resolve);
        res.on('error', reject);
      });
      writeNext();
    });
    assert.equal(receivedBytes, chunks * chunk.length);
    assert.equal(received.digest('hex'), sent.digest('hex'));

    const big = Buffer.alloc(10 * 1024 * 1024, 3);
    const answer = await invoke(gw, `echo.${gw.namespace}`, { method: 'POST', body: big });
    assert.equal(answer.json().bodyBytes, big.length);
    assert.equal(answer.json().bodySha256, createHash('sha256').update(big).digest('hex'));
  });

  test('scale up spreads calls round robin; scale to zero omits replicas, and a call there wakes the function', async () => {
    assert.equal((await call(gw, 'POST', '/system/scale-function/echo', { serviceName: 'echo', namespace: gw.namespace, replicas: 3 })).status, 202);
    const fn = (await call(gw, 'GET', `/system/function/echo?namespace=${gw.namespace}`)).json();
    assert.equal(fn.replicas, 3);
    assert.equal(fn.availableReplicas, 3);
    const hosts: string[] = [];
    for (let i = 0; i < 6; i++) hosts.push((await invoke(gw, `echo.${gw.namespace}`)).json().hostname);
    assert.equal(new Set(hosts).size, 3);
    assert.deepEqual(hosts.slice(3), hosts.slice(0, 3), 'round robin');

    assert.equal((await call(gw, 'POST', `/system/scale-function/echo?namespace=${gw.namespace}`, { replicas: 0 })).status, 202);
    const zero = (await call(gw, 'GET', `/system/function/echo?namespace=${gw.namespace}`)).json();
    assert.equal('replicas' in zero, false, 'no replicas key at 0');
    assert.equal(zero.availableReplicas, 0);
    assert.deepEqual(zero.envVars, { VERSION: 'v7' }, 'the spec survives scale to zero');
    const running = (await containers('echo', gw.namespace)).filter((c) => c.State === 'running');
    assert.equal(running.length, 0);
    // Held while the function wakes (zero/waker.ts), then answered by the woken replica.
    const woken = await invoke(gw, `echo.${gw.namespace}`);
    assert.equal(woken.status, 200, woken.text);
    assert.equal(woken.json().version, 'v7');
    assert.equal((await call(gw, 'GET', `/system/function/echo?namespace=${gw.namespace}`)).json().replicas, 1);

    assert.equal((await call(gw, 'POST', `/system/scale-function/echo?namespace=${gw.namespace}`, { replicas: 1 })).status, 202);
    assert.equal((await invoke(gw, `echo.${gw.namespace}`)).json().version, 'v7');
    assert.equal((await containers('echo', gw.namespace)).length, 1);
  });

  test('logs come from the container output as an ndjson stream', async () => {
    const res = await call(gw, 'GET', `/system/logs?name=echo&namespace=${gw.namespace}&tail=1`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /ndjson/);
    const lines = res.text.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 1);
    assert.equal(lines[0].name, 'echo');
    assert.equal(lines[0].namespace, gw.namespace);
    assert.match(lines[0].text, /echo v7 listening on :8080/);
    assert.ok(lines[0].instance && !Number.isNaN(Date.parse(lines[0].timestamp)));

    const future = new Date(Date.now() + 3_600_000).toISOString();
    const none = await call(gw, 'GET', `/system/logs?name=echo&namespace=${gw.namespace}&since=${encodeURIComponent(future)}`);
    assert.equal(none.status, 200);
    assert.equal(none.text, '', 'nothing was written after since');
    assert.equal((await call(gw, 'GET', `/system/logs?name=echo&namespace=${gw.namespace}&since=yesterday`)).status, 400);

    // follow keeps the stream open and yields lines as they come.
    const abort = new AbortController();
    const followed = await fetch(`${gw.url}/system/logs?name=echo&namespace=${gw.namespace}&follow=true&tail=-1`, {
      headers: { authorization: gw.authHeader },
      signal: abort.signal,
    });
    const reader = followed.body!.getReader();
    const first = await reader.read();
    assert.match(Buffer.from(first.value!).toString(), /"text":"echo v7 listening/);
    abort.abort();

    // A replica that starts while the stream is followed joins it.
    const joined = new AbortController();
    const live = await fetch(`${gw.url}/system/logs?name=echo&namespace=${gw.namespace}&follow=true&tail=0`, {
      headers: { authorization: gw.authHeader },
      signal: AbortSignal.any([joined.signal, AbortSignal.timeout(15_000)]),
    });
    assert.equal(live.status, 200);
    const [before] = await containers('echo', gw.namespace);
    assert.equal((await call(gw, 'POST', `/system/scale-function/echo?namespace=${gw.namespace}`, { replicas: 2 })).status, 202);
    const liveReader = live.body!.getReader();
    let text = '';
    while (!/listening/.test(text)) {
      const { value, done } = await liveReader.read();
      assert.equal(done, false, 'the followed stream stays open');
      text += Buffer.from(value!).toString();
    }
    const line = JSON.parse(text.split('\n').find((l) => /listening/.test(l))!);
    assert.notEqual(line.instance, before.Names[0].replace(/^\//, ''), 'the line comes from the new replica');
    joined.abort();
    assert.equal((await call(gw, 'POST', `/system/scale-function/echo?namespace=${gw.namespace}`, { replicas: 1 })).status, 202);

    assert.equal((await call(gw, 'GET', `/system/logs?name=nope&namespace=${gw.namespace}`)).status, 404);
    assert.equal((await call(gw, 'GET', '/system/logs')).status, 400);
  });

  test('secrets are mounted read-only at /var/openfaas/secrets', async () => {
    assert.equal((await call(gw, 'POST', '/system/secrets', { name: 'api-key', value: 's3cret', namespace: gw.namespace })).status, 202);
    assert.equal((await call(gw, 'POST', '/system/secrets', { name: 'api-key', value: 'x', namespace: gw.namespace })).status, 409);
    assert.deepEqual((await call(gw, 'GET', `/system/secrets?namespace=${gw.namespace}`)).json(), [{ name: 'api-key', namespace: gw.namespace }]);
    const missing = await call(gw, 'POST', '/system/functions', deployment(gw, 'with-missing', image, { secrets: ['nope'] }));
    assert.equal(missing.status, 400);
    assert.match(missing.text, /secret "nope" does not exist/);
    assert.equal((await call(gw, 'POST', '/system/functions', deployment(gw, 'with-secret', image, { secrets: ['api-key'] }))).status, 202);
    const [c] = await containers('with-secret', gw.namespace);
    const mount = (await docker.getContainer(c.Id).inspect()).Mounts.find((m) => m.Destination === '/var/openfaas/secrets/api-key');
    assert.ok(mount, 'secret mounted');
    assert.equal(mount.RW, false);
    assert.deepEqual((await call(gw, 'GET', `/system/function/with-secret?namespace=${gw.namespace}`)).json().secrets, ['api-key']);
  });

  test('delete removes every container; the function is then unknown', async () => {
    const res = await call(gw, 'DELETE', '/system/functions', { functionName: 'with-secret', namespace: gw.namespace });
    assert.equal(res.status, 202);
    assert.equal((await containers('with-secret', gw.namespace)).length, 0);
    assert.equal((await invoke(gw, `with-secret.${gw.namespace}`)).status, 404);
    assert.equal((await call(gw, 'GET', `/system/function/with-secret?namespace=${gw.namespace}`)).status, 404);
  });
});

describe('invocation counts', () => {
  test('a deleted and re-created function starts counting invocations from zero', async () => {
    const count = async () => (await call(gw, 'GET', `/system/function/recount?namespace=${gw.namespace}`)).json().invocationCount;
    assert.equal((await call(gw, 'POST', '/system/functions', deployment(gw, 'recount', image))).status, 202);
    for (let i = 0; i < 3; i++) assert.equal((await invoke(gw, `recount.${gw.namespace}`)).status, 200);
    assert.equal(await count(), 3);
    assert.equal((await call(gw, 'DELETE', '/system/functions', { functionName: 'recount', namespace: gw.namespace })).status, 202);
    assert.equal((await call(gw, 'POST', '/system/functions', deployment(gw, 'recount', image))).status, 202);
    assert.equal(await count(), 0, 'the new function has not been called yet');
    assert.equal((await invoke(gw, `recount.${gw.namespace}`)).status, 200);
    assert.equal(await count(), 1);
    const metrics = (await call(gw, 'GET', '/metrics')).text;
    assert.match(metrics, new RegExp(`gateway_function_invocation_total\\{function_name="recount\\.${gw.namespace}",code="200"\\} 1\\n`));
    assert.equal((await call(gw, 'DELETE', '/system/functions', { functionName: 'recount', namespace: gw.namespace })).status, 202);
  });
});

describe('faas-cli compatibility', () => {
  test('deploy as faas-cli does it: PUT, then POST on 404, with its empty fields; both answer 202', async () => {
    const body = {
      service: 'cli', image, namespace: '', envProcess: '', envVars: {}, constraints: null, secrets: [], labels: null,
      annotations: null, limits: null, requests: null, readOnlyRootFilesystem: false, registryAuth: '',
    };
    assert.equal((await call(gw, 'PUT', `/system/functions?namespace=${gw.namespace}`, body)).status, 404);
    assert.equal((await call(gw, 'POST', `/system/functions?namespace=${gw.namespace}`, body)).status, 202);
    assert.equal((await call(gw, 'PUT', `/system/functions?namespace=${gw.namespace}`, body)).status, 202);
    const described = await call(gw, 'GET', `/system/function/cli?namespace=${gw.namespace}&usage=1`);
    assert.equal(described.json().availableReplicas, 1);
    assert.equal((await call(gw, 'DELETE', `/system/functions?namespace=${gw.namespace}`, { functionName: 'cli', namespace: '' })).status, 202);
  });
});

describe('auth and system endpoints', () => {
  test('/system needs basic auth: none, empty Bearer and wrong password get 401 with WWW-Authenticate', async () => {
    for (const authorization of [undefined, 'Bearer ', 'Basic ' + Buffer.from('admin:wrong').toString('base64'), 'Basic ' + Buffer.from('root:' + 'x').toString('base64')]) {
      const res = await fetch(`${gw.url}/system/functions`, { headers: authorization ? { authorization } : {} });
      assert.equal(res.status, 401, `authorization ${authorization}`);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Basic realm=/);
      await res.body?.cancel();
    }
    assert.equal((await call(gw, 'GET', '/system/functions')).status, 200);
    assert.equal((await fetch(`${gw.url}/healthz`)).status, 200);
    const metrics = await call(gw, 'GET', '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.text, /gateway_function_invocation_total\{function_name="echo\.t-/);
  });

  test('/system/info has the shape faas-cli version reads; namespaces include the default', async () => {
    const info = (await call(gw, 'GET', '/system/info')).json();
    assert.equal(typeof info.provider.provider, 'string');
    assert.equal(typeof info.provider.orchestration, 'string');
    assert.equal(typeof info.provider.version.release, 'string');
    assert.equal(typeof info.version.release, 'string');
    assert.equal(typeof info.version.sha, 'string');
    const namespaces = (await call(gw, 'GET', '/system/namespaces')).json();
    assert.ok(namespaces.includes('openfaas-fn'));
    assert.ok(namespaces.includes(gw.namespace));
  });
});

describe('errors', () => {
  test('bad deployments get 400 with the reason and leave nothing behind', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [deployment(gw, 'Bad_Name', image), /function name "Bad_Name" must be a DNS-1123 label/],
      [deployment(gw, 'x'.repeat(64), image), /at most 63/],
      [{ service: 'no-image', namespace: gw.namespace }, /image is required/],
      [deployment(gw, 'bad-ns', image, { namespace: 'Not OK' }), /namespace "Not OK"/],
      [deployment(gw, 'no-pull', '127.0.0.1:5000/gitfaas-test/does-not-exist:nope'), /cannot be pulled/],
      [deployment(gw, 'bad-ref', 'UPPER/Case::bad'), /image: "UPPER\/Case::bad" has an uppercase path component/],
      [deployment(gw, 'bad-mem', image, { limits: { memory: 'lots' } }), /limits.memory "lots"/],
      [deployment(gw, 'bad-label', image, { labels: { 'com.gitfaas.managed': 'false' } }), /reserved/],
      ['{not json', /not valid JSON/],
    ];
    for (const [body, reason] of cases) {
      const res = await call(gw, 'POST', '/system/functions', body);
      assert.equal(res.status, 400, `${JSON.stringify(body)} -> ${res.text}`);
      assert.match(res.text, reason);
    }
    for (const name of ['no-pull', 'bad-ref', 'bad-mem', 'bad-label', 'no-image']) {
      assert.equal((await containers(name, gw.namespace)).length, 0, `nothing left of ${name}`);
    }
  });

  test('409 for an existing name, 404 for updating or deleting a missing one, 400 for replicas out of range', async () => {
    assert.equal((await call(gw, 'POST', '/system/functions', deployment(gw, 'echo', image))).status, 409);
    const put = await call(gw, 'PUT', '/system/functions', deployment(gw, 'missing', image));
    assert.equal(put.status, 404);
    assert.match(put.text, /function "missing" not found/);
    assert.equal((await call(gw, 'DELETE', '/system/functions', { functionName: 'missing', namespace: gw.namespace })).status, 404);
    assert.equal((await call(gw, 'POST', '/system/scale-function/missing', { namespace: gw.namespace, replicas: 1 })).status, 404);
    for (const replicas of [-1, 1.5, 1000]) {
      const res = await call(gw, 'POST', '/system/scale-function/echo', { namespace: gw.namespace, replicas });
      assert.equal(res.status, 400, `replicas ${replicas}`);
      assert.match(res.text, /replicas must be a whole number/);
    }
    assert.equal((await invoke(gw, `nothing-here.${gw.namespace}`)).status, 404);
  });

  test('a replica that never answers fails the deploy with a clear error and is removed', async () => {
    const res = await call(gw, 'POST', '/system/functions', deployment(gw, 'crashes', image, { envProcess: 'x', envVars: { NODE_OPTIONS: '--no-such-flag' } }));
    assert.equal(res.status, 504);
    assert.match(res.text, /exited with code \d+/);
    assert.equal((await containers('crashes', gw.namespace)).length, 0);
  });

  test('an update whose replicas never answer is rolled back; the old replicas keep serving', async () => {
    const before = (await containers('echo', gw.namespace)).map((c) => c.Id).sort();
    const res = await call(gw, 'PUT', '/system/functions', deployment(gw, 'echo', image, { envVars: { VERSION: 'bad', NODE_OPTIONS: '--no-such-flag' } }));
    assert.equal(res.status, 504);
    assert.match(res.text, /exited with code \d+/);
    assert.deepEqual((await containers('echo', gw.namespace)).map((c) => c.Id).sort(), before);
    assert.equal((await invoke(gw, `echo.${gw.namespace}`)).json().version, 'v7');
    assert.deepEqual((await call(gw, 'GET', `/system/function/echo?namespace=${gw.namespace}`)).json().envVars, { VERSION: 'v7' });
  });

  test('502 when the replica drops the connection', async () => {
    const pending = invoke(gw, `echo.${gw.namespace}?sleep=10000`);
    const [c] = await containers('echo', gw.namespace);
    // Kill the function's process from the host, as the OOM killer would.
    const { State } = await docker.getContainer(c.Id).inspect();
    // Killed before or during the call, the replica never answers it: 502 either way.
    process.kill(State.Pid, 'SIGKILL');
    const answer = await pending;
    assert.equal(answer.status, 502);
    assert.match(answer.text, /did not answer/);
    // ...and the dead replica is started again.
    await waitFor('the replica to be back', async () => (await invoke(gw, `echo.${gw.namespace}`)).status === 200, 20000);
  });
});

describe('timeouts', () => {
  test('a replica that never answers fails the deploy after the start deadline, naming it', async () => {
    const silent = await fixtureImage('silent');
    const short = await startTestGateway({ env: { GITFAAS_REPLICA_START_TIMEOUT_MS: '1500' } });
    try {
      const started = Date.now();
      const res = await call(short, 'POST', '/system/functions', deployment(short, 'silent', silent));
      assert.equal(res.status, 504);
      assert.match(res.text, /did not answer HTTP on port 8080 within 1.5 s: not listening\nits output:\nnot listening/);
      assert.ok(Date.now() - started < 5000);
      assert.equal((await containers('silent', short.namespace)).length, 0, 'nothing left');
      assert.equal((await call(short, 'GET', `/system/function/silent?namespace=${short.namespace}`)).status, 404);
    } finally {
      await short.stop();
    }
  });

  test('504 once the function timeout passes', async () => {
    const short = await startTestGateway({ env: { GITFAAS_FUNCTION_TIMEOUT_MS: '500' } });
    try {
      assert.equal((await call(short, 'POST', '/system/functions', deployment(short, 'slow', image))).status, 202);
      const started = Date.now();
      const answer = await invoke(short, `slow.${short.namespace}?sleep=3000`);
      assert.equal(answer.status, 504);
      assert.match(answer.text, /did not answer within 0.5 s/);
      assert.ok(Date.now() - started < 2500);
      assert.equal((await invoke(short, `slow.${short.namespace}?sleep=10`)).status, 200);
    } finally {
      await short.stop();
    }
  });
});
