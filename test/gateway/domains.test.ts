// Owner subdomains and custom domains through the real gateway and Docker: who a Host header
// reaches, and every way it should not reach anything else.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import { loadGatewayConfig } from '../../services/gateway/config.js';
import { startGateway, type RunningGateway } from '../../services/gateway/service.js';
import { silentLogger } from '../../shared/logger.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { fixtureImage } from '../helpers/images.js';
import { waitFor } from '../helpers/wait.js';
import { call } from './client.js';

const DOMAIN = 'fn.example.com';
const suffix = randomBytes(3).toString('hex');
const alice = `gh-alice${suffix}`;
const bob = `gh-bob${suffix}`;
const aliceHost = `${alice}.${DOMAIN}`;
const custom = `api-${suffix}.example.test`;
const docker = new Docker();

let gw: TestGateway;
const extra: RunningGateway[] = [];

interface Reply {
  status: number;
  text: string;
  json<T = any>(): T;
}

/** A request to the gateway at 127.0.0.1 with any Host header (fetch cannot set one). */
function request(base: string, host: string, path: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: url.port, path, method: opts.method ?? 'GET', headers: { host, ...opts.headers }, setHost: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode!, text, json: () => JSON.parse(text) });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

const at = (host: string, path: string, opts?: Parameters<typeof request>[3]) => request(gw.url, host, path, opts);

/** Another gateway on the same instance (same containers), stopped without removing anything. */
async function sibling(env: Record<string, string> = {}): Promise<RunningGateway> {
  const config = loadGatewayConfig({
    GITFAAS_GATEWAY_PORT: '0',
    GITFAAS_ADMIN_PASSWORD: 'pw',
    GITFAAS_LOG_LEVEL: 'silent',
    GITFAAS_INSTANCE: gw.instance,
    ...env,
  });
  const running = await startGateway(config, silentLogger());
  extra.push(running);
  // It finds the replicas at once, and sends them traffic once it has probed them.
  await waitFor('the new gateway to see echo ready', async () => (running.provider.endpoints('echo', alice)?.length ?? 0) > 0);
  return running;
}

const deploy = async (service: string, namespace: string, extraFields: Record<string, unknown> = {}) => {
  const res = await call(gw, 'POST', '/system/functions', { service, image: await fixtureImage('echo'), namespace, ...extraFields });
  assert.equal(res.status, 202, res.text);
};

before(async () => {
  gw = await startTestGateway({ env: { GITFAAS_DOMAIN: DOMAIN } });
  await deploy('echo', alice, {
    envVars: { VERSION: 'alice', API_KEY: 'hunter2-secret' },
    labels: { 'com.openfaas.cloud.git-sha': 'abc123', 'com.openfaas.cloud.git-repo': 'alice/fns' },
    annotations: { 'com.gitfaas.domain': custom, private: 'do-not-show' },
  });
  // Named like bob's namespace, in alice's.
  await deploy(bob, alice, { envVars: { VERSION: 'alice-named-bob' } });
  await deploy('echo', bob, { envVars: { VERSION: 'bob' } });
});

after(async () => {
  for (const g of extra) await g.stop();
  await gw?.stop();
});

describe('owner subdomains', () => {
  test('<namespace>.<domain>/<function>/<path>?query reaches that function with the path and query', async () => {
    const res = await at(aliceHost, '/echo/x?q=1');
    assert.equal(res.status, 200, res.text);
    const seen = res.json();
    assert.equal(seen.version, 'alice');
    assert.equal(seen.path, '/x');
    assert.deepEqual(seen.query, { q: '1' });
    assert.equal((await at(aliceHost, '/echo')).json().path, '/');
    const post = await at(aliceHost, '/echo/deep/er', { method: 'POST', body: 'hello', headers: { 'content-type': 'text/plain' } });
    assert.equal(post.json().method, 'POST');
    assert.equal(post.json().bodyBytes, 5);
    assert.equal((await at(`${bob}.${DOMAIN}`, '/echo/x')).json().version, 'bob');
  });

  test('alice.<domain>, the GitHub login, is the same owner as gh-alice.<domain>; bob\'s label never reaches alice', async () => {
    const bareAlice = alice.slice('gh-'.length);
    const res = await at(`${bareAlice}.${DOMAIN}`, '/echo/x?q=1');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json().version, 'alice');
    assert.equal(res.json().path, '/x');
    assert.equal((await at(`${bob.slice('gh-'.length)}.${DOMAIN}`, '/echo/x')).json().version, 'bob');
    const list = await at(`${bareAlice}.${DOMAIN}`, '/');
    const urls: string[] = list.json().map((f: { url: string }) => f.url);
    assert.ok(urls.includes(`http://${bareAlice}.${DOMAIN}/echo`), urls.join(' '));
    assert.ok(urls.every((u) => u.startsWith(`http://${bareAlice}.${DOMAIN}/`)), urls.join(' '));
    // A GitLab owner's namespace form names that namespace, not a GitHub login.
    const gitlab = await at(`gl-${bareAlice}.${DOMAIN}`, '/echo/x');
    assert.equal(gitlab.status, 404);
    assert.match(gitlab.text, new RegExp(`not found in namespace "gl-${bareAlice}"`));
  });

  test('hosts are case-insensitive and the port is ignored', async () => {
    for (const host of [aliceHost.toUpperCase(), `${aliceHost}:8080`]) {
      const res = await at(host, '/echo/x');
      assert.equal(res.status, 200, `${host}: ${res.text}`);
      assert.equal(res.json().version, 'alice', host);
    }
  });

  test('look-alike hosts and dotted function names reach nothing', async () => {
    const lookAlike = await at(`${aliceHost}.evil.test`, '/echo/x');
    assert.equal(lookAlike.status, 404);
    assert.match(lookAlike.text, /no route for GET \/echo\/x/);
    const nested = await at(`evil.${aliceHost}`, '/echo/x');
    assert.equal(nested.status, 404);
    assert.match(nested.text, /no owner at evil\./);
    const dotted = await at(aliceHost, `/echo.${bob}/x`);
    assert.equal(dotted.status, 404);
    assert.match(dotted.text, /no function at/);
    const encoded = await at(aliceHost, `/echo%2E${bob}/x`);
    assert.equal(encoded.status, 404);
    const viaFunctionPath = await at(aliceHost, `/function/echo.${bob}`);
    assert.equal(viaFunctionPath.status, 404);
    assert.match(viaFunctionPath.text, new RegExp(`function "function" not found in namespace "${alice}"`));
  });

  test('a function named like another owner\'s namespace stays in the subdomain\'s namespace', async () => {
    const res = await at(aliceHost, `/${bob}/echo/x`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json().version, 'alice-named-bob');
    assert.equal(res.json().path, '/echo/x');
  });

  test('the bare subdomain lists only that namespace\'s functions, public fields only', async () => {
    const res = await at(aliceHost, '/');
    assert.equal(res.status, 200, res.text);
    const list = res.json<Array<Record<string, unknown>>>();
    assert.deepEqual(list.map((f) => f.name).sort(), [bob, 'echo'].sort());
    const echo = list.find((f) => f.name === 'echo')!;
    assert.equal(echo.url, `http://${aliceHost}/echo`);
    assert.equal(echo.gitSha, 'abc123');
    assert.equal(echo.gitRepo, 'alice/fns');
    assert.equal(echo.replicas, 1);
    for (const leak of ['hunter2', 'API_KEY', 'envVars', 'annotations', 'do-not-show', 'com.gitfaas', 'image']) {
      assert.doesNotMatch(res.text, new RegExp(leak), leak);
    }
    const bobs = (await at(`${bob}.${DOMAIN}`, '/')).json<Array<{ name: string }>>();
    assert.deepEqual(bobs.map((f) => f.name), ['echo']);
  });

  test('an unknown owner or function answers 404 with a clear text', async () => {
    const owner = await at(`gh-nobody${suffix}.${DOMAIN}`, '/');
    assert.equal(owner.status, 404);
    assert.match(owner.text, new RegExp(`no functions in namespace "gh-nobody${suffix}"`));
    const ownerFn = await at(`gh-nobody${suffix}.${DOMAIN}`, '/echo');
    assert.equal(ownerFn.status, 404);
    assert.match(ownerFn.text, new RegExp(`function "echo" not found in namespace "gh-nobody${suffix}"`));
    const fn = await at(aliceHost, '/nope/x');
    assert.equal(fn.status, 404);
    assert.match(fn.text, new RegExp(`function "nope" not found in namespace "${alice}"`));
  });

  test('/system is never reached through a subdomain or a custom domain, even with the admin password', async () => {
    const auth = { authorization: gw.authHeader };
    const sub = await at(aliceHost, '/system/functions', { headers: auth });
    assert.equal(sub.status, 404);
    assert.match(sub.text, new RegExp(`function "system" not found in namespace "${alice}"`));
    const deployThrough = await at(aliceHost, '/system/functions', { method: 'POST', headers: auth, body: JSON.stringify({ service: 'x', image: 'y', namespace: bob }) });
    assert.equal(deployThrough.status, 404);
    // On a custom domain every path is the function's own.
    const viaCustom = await at(custom, '/system/functions', { headers: auth });
    assert.equal(viaCustom.status, 200);
    assert.equal(viaCustom.json().version, 'alice');
    assert.equal(viaCustom.json().path, '/system/functions');
    // The API itself still answers on the gateway's own host.
    assert.equal((await call(gw, 'GET', `/system/functions?namespace=${alice}`)).status, 200);
  });

  test('X-Forwarded-Host is ignored unless GITFAAS_TRUST_PROXY is set, and honoured (first value) when it is', async () => {
    const plainHost = `127.0.0.1:${new URL(gw.url).port}`;
    const ignored = await at(plainHost, '/echo/x', { headers: { 'x-forwarded-host': aliceHost } });
    assert.equal(ignored.status, 404);
    assert.match(ignored.text, /no route for GET \/echo\/x/);
    const trusted = await sibling({ GITFAAS_DOMAIN: DOMAIN, GITFAAS_TRUST_PROXY: 'true' });
    const honoured = await request(trusted.url, plainHost, '/echo/x', { headers: { 'x-forwarded-host': `${aliceHost}, evil.test`, 'x-forwarded-proto': 'https' } });
    assert.equal(honoured.status, 200, honoured.text);
    assert.equal(honoured.json().version, 'alice');
    const index = await request(trusted.url, plainHost, '/', { headers: { 'x-forwarded-host': aliceHost, 'x-forwarded-proto': 'https' } });
    assert.ok(index.json().some((f: { url: string }) => f.url === `https://${aliceHost}/echo`), index.text);
  });

  test('with the default domain, <namespace>.localhost works', async () => {
    const local = await sibling();
    const res = await request(local.url, `${alice}.localhost:${new URL(local.url).port}`, '/echo/x');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json().version, 'alice');
  });
});

describe('custom domains', () => {
  const containers = (name: string, namespace: string) =>
    docker.listContainers({ all: true, filters: { label: [`com.gitfaas.function=${name}`, `com.gitfaas.namespace=${namespace}`] } });

  test('the annotated host (any case, any port) reaches the function with the whole path and query', async () => {
    const res = await at(`${custom.toUpperCase()}:443`, '/v1/users?page=2');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json().version, 'alice');
    assert.equal(res.json().path, '/v1/users');
    assert.deepEqual(res.json().query, { page: '2' });
    assert.equal((await at(`${custom}.evil.test`, '/v1')).status, 404);
  });

  test('a second claim answers 409 naming the holder, and creates or changes nothing', async () => {
    const image = await fixtureImage('echo');
    const claim = { annotations: { 'com.gitfaas.domain': custom.toUpperCase() } };
    const created = await call(gw, 'POST', '/system/functions', { service: 'grab', image, namespace: bob, ...claim });
    assert.equal(created.status, 409);
    assert.equal(created.text, `domain ${custom} is held by echo.${alice}\n`);
    assert.equal((await containers('grab', bob)).length, 0);
    assert.equal((await call(gw, 'GET', `/system/function/grab?namespace=${bob}`)).status, 404);

    const before = await containers('echo', bob);
    const updated = await call(gw, 'PUT', '/system/functions', { service: 'echo', image, namespace: bob, envVars: { VERSION: 'bob-2' }, ...claim });
    assert.equal(updated.status, 409);
    assert.match(updated.text, new RegExp(`domain ${custom} is held by echo\\.${alice}`));
    assert.deepEqual((await containers('echo', bob)).map((c) => c.Id), before.map((c) => c.Id));
    assert.equal((await at(`${bob}.${DOMAIN}`, '/echo')).json().version, 'bob');
    assert.equal((await at(custom, '/')).json().version, 'alice');

    // The holder itself may deploy again with its own domain.
    const again = await call(gw, 'PUT', '/system/functions', { service: 'echo', image, namespace: alice, envVars: { VERSION: 'alice', API_KEY: 'hunter2-secret' }, labels: { 'com.openfaas.cloud.git-sha': 'abc123', 'com.openfaas.cloud.git-repo': 'alice/fns' }, annotations: { 'com.gitfaas.domain': custom } });
    assert.equal(again.status, 202, again.text);
    assert.equal((await at(custom, '/')).json().version, 'alice');
  });

  test('domains that are not a public host name, or that would take owner subdomains, are refused', async () => {
    const image = await fixtureImage('echo');
    for (const bad of ['localhost', 'app.localhost', '127.0.0.1', DOMAIN, `${bob}.${DOMAIN}`, 'https://x.example.test', 'x.example.test:8080', 'single', 'a_b.example.test']) {
      const res = await call(gw, 'POST', '/system/functions', { service: 'bad', image, namespace: bob, annotations: { 'com.gitfaas.domain': bad } });
      assert.equal(res.status, 400, `${bad}: ${res.text}`);
      assert.match(res.text, /annotation com\.gitfaas\.domain/, bad);
    }
    assert.equal((await containers('bad', bob)).length, 0);
  });

  test('a restarted gateway rebuilds the claims from Docker: it routes the domain and still refuses a second claim', async () => {
    const restarted = await sibling({ GITFAAS_DOMAIN: DOMAIN });
    const res = await request(restarted.url, custom, '/after-restart');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json().path, '/after-restart');
    const grab = await fetch(`${restarted.url}/system/functions`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` },
      body: JSON.stringify({ service: 'grab', image: await fixtureImage('echo'), namespace: bob, annotations: { 'com.gitfaas.domain': custom } }),
    });
    assert.equal(grab.status, 409);
    assert.equal(await grab.text(), `domain ${custom} is held by echo.${alice}\n`);
  });

  test('a gateway already running learns another gateway\'s claims through the feed: it routes, refuses and frees them without a restart', async () => {
    const watcher = await sibling({ GITFAAS_DOMAIN: DOMAIN });
    const late = `late-${suffix}.example.test`;
    const image = await fixtureImage('echo');
    // Claimed through gw after the watcher started.
    const claimed = await call(gw, 'POST', '/system/functions', { service: 'late', image, namespace: bob, envVars: { VERSION: 'late' }, annotations: { 'com.gitfaas.domain': late } });
    assert.equal(claimed.status, 202, claimed.text);
    await waitFor('the watcher to route the new domain', async () => (await request(watcher.url, late, '/')).status === 200, 60_000, 100);
    assert.equal((await request(watcher.url, late, '/')).json().version, 'late');
    const grab = await fetch(`${watcher.url}/system/functions`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` },
      body: JSON.stringify({ service: 'grab2', image, namespace: alice, annotations: { 'com.gitfaas.domain': late } }),
    });
    assert.equal(grab.status, 409);
    assert.equal(await grab.text(), `domain ${late} is held by late.${bob}\n`);
    // Dropped through gw: the watcher frees it too.
    assert.equal((await call(gw, 'DELETE', '/system/functions', { functionName: 'late', namespace: bob })).status, 202);
    await waitFor('the watcher to free the domain', async () => (await request(watcher.url, late, '/')).status === 404, 60_000, 100);
  });

  test('removing the holder frees the domain', async () => {
    assert.equal((await call(gw, 'DELETE', '/system/functions', { functionName: 'echo', namespace: alice })).status, 202);
    const gone = await at(custom, '/x');
    assert.equal(gone.status, 404);
    const taken = await call(gw, 'POST', '/system/functions', { service: 'grab', image: await fixtureImage('echo'), namespace: bob, envVars: { VERSION: 'bob-grab' }, annotations: { 'com.gitfaas.domain': custom } });
    assert.equal(taken.status, 202, taken.text);
    assert.equal((await at(custom, '/x')).json().version, 'bob-grab');
  });
});
