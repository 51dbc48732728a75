// stack.yml's `secrets:` end to end: a commit naming a secret the owner's namespace lacks is
// not deployed and its status names the secret; once the secret exists, the next push goes
// live and the function reads the value from /var/openfaas/secrets/<name>, and the value
// is in none of the container's env or labels, the build log or the API answers. A secret
// the owner makes with their own API token (faas-cli's calls: login, secret create
// --from-file) is mounted and read the same way.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import { startGitOpsStack, type GitOpsRepo, type GitOpsStack } from '../helpers/gitops-stack.js';

function files(version: string, secret = 'api-key'): Record<string, string> {
  return {
    'stack.yml': ['version: 1.0', 'provider:', '  name: openfaas', 'functions:', '  sec:', '    lang: node20', '    handler: ./sec', '    image: example/sec:latest', '    secrets:', `      - ${secret}`, ''].join('\n'),
    'sec/handler.js': [
      "'use strict';",
      "const fs = require('fs');",
      `module.exports = async (event, context) => context.status(200).succeed(${JSON.stringify(version)} + ':' + fs.readFileSync('/var/openfaas/secrets/${secret}', 'utf8'));`,
      '',
    ].join('\n'),
  };
}

/** Which of the texts occur anywhere in a byte stream (also across chunk boundaries). */
async function foundInStream(stream: NodeJS.ReadableStream, texts: string[]): Promise<string[]> {
  const needles = texts.map((t) => Buffer.from(t));
  const keep = Math.max(...needles.map((n) => n.length)) - 1;
  const found = new Set<string>();
  let tail = Buffer.alloc(0);
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const joined = Buffer.concat([tail, chunk]);
    needles.forEach((needle, i) => joined.includes(needle) && found.add(texts[i]));
    tail = joined.subarray(Math.max(0, joined.length - keep));
  }
  return texts.filter((t) => found.has(t));
}

describe('secrets named in stack.yml', () => {
  let stack: GitOpsStack;
  let repo: GitOpsRepo;
  const value = `s3cret-${randomBytes(8).toString('hex')}`;
  const ownerValue = `owner-${randomBytes(8).toString('hex')}`;

  before(async () => {
    stack = await startGitOpsStack();
    repo = await stack.newRepo('secrets');
  });
  after(async () => {
    await fetch(`${stack.gateway.url}/system/secrets`, {
      method: 'DELETE',
      headers: { authorization: stack.gateway.authHeader, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'api-key', namespace: stack.namespace }),
    }).catch(() => {});
    await fetch(`${stack.gateway.url}/system/secrets`, {
      method: 'DELETE',
      headers: { authorization: stack.gateway.authHeader, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'db-pass', namespace: stack.namespace }),
    }).catch(() => {});
    await stack?.stop();
  });

  const settled = (sha: string) => stack.settled(sha);

  test('a missing secret fails the commit with a status naming it; nothing is deployed', async () => {
    const sha = await repo.commit(files('v1'));
    assert.equal((await repo.push(sha)).status, 202);
    const status = await settled(sha);
    assert.equal(status.state, 'failure');
    assert.match(status.description!, /secret "api-key" not found in namespace gh-/);
    const fnStatus = stack.github.statusesFor(sha, 'gitfaas/sec').at(-1)!;
    assert.match(fnStatus.description!, /"api-key"/);
    assert.equal((await stack.call('sec')).status, 404);
  });

  test('once it exists the function reads it from its file, and the value leaks nowhere', async () => {
    const created = await fetch(`${stack.gateway.url}/system/secrets`, {
      method: 'POST',
      headers: { authorization: stack.gateway.authHeader, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'api-key', value, namespace: stack.namespace }),
    });
    assert.equal(created.status, 202, await created.text());
    const sha = await repo.commit({ ...files('v2'), 'README.md': 'v2\n' });
    assert.equal((await repo.push(sha)).status, 202);
    const status = await settled(sha);
    assert.equal(status.state, 'success', status.description);
    assert.equal((await stack.call('sec')).text, `v2:${value}`);

    const answers = [
      await (await fetch(`${stack.gateway.url}/system/functions?namespace=${stack.namespace}`, { headers: { authorization: stack.gateway.authHeader } })).text(),
      await (await fetch(`${stack.gateway.url}/system/secrets?namespace=${stack.namespace}`, { headers: { authorization: stack.gateway.authHeader } })).text(),
      await (await fetch(`${stack.webhooks.url}/system/deploys?repository=${encodeURIComponent(`${stack.owner}/secrets`)}`, { headers: { authorization: stack.gateway.authHeader } })).text(),
      await (await fetch(status.target_url!.startsWith(stack.webhooks.url) ? status.target_url! : stack.github.statusesFor(sha, 'gitfaas').find((s) => s.target_url?.includes('/logs/'))!.target_url!)).text(),
    ];
    assert.match(answers[1], /"api-key"/);
    for (const text of answers) assert.ok(!text.includes(value), `the value is not in ${text.slice(0, 200)}`);

    const docker = new Docker();
    const containers = await docker.listContainers({ filters: { label: [`com.openfaas.cloud.git-sha=${sha}`] } });
    assert.ok(containers.length > 0, 'the function runs');
    for (const c of containers) {
      const info = await docker.getContainer(c.Id).inspect();
      assert.ok(!JSON.stringify(info.Config.Env).includes(value), 'not in env');
      assert.ok(!JSON.stringify(info.Config.Labels).includes(value), 'not in labels');
      const mount = info.Mounts.find((m) => m.Destination === '/var/openfaas/secrets/api-key');
      assert.ok(mount, 'mounted at /var/openfaas/secrets/api-key');
      assert.equal(mount.RW, false, 'read-only');
    }
  });

  test('a secret made with OWNER credentials (faas-cli login + secret create --from-file) is mounted and read', async () => {
    const made = await fetch(`${stack.gateway.url}/system/owner-tokens/${stack.namespace}`, { method: 'POST', headers: { authorization: stack.gateway.authHeader } });
    assert.equal(made.status, 201, await made.clone().text());
    const { token } = (await made.json()) as { token: string };
    const owner = `Basic ${Buffer.from(`${stack.namespace}:${token}`).toString('base64')}`;
    // faas-cli login checks the credentials with GET /system/functions.
    assert.equal((await fetch(`${stack.gateway.url}/system/functions`, { headers: { authorization: owner } })).status, 200);
    // --from-file sends the bytes as rawValue (Go []byte, so base64 in JSON).
    const created = await fetch(`${stack.gateway.url}/system/secrets`, {
      method: 'POST',
      headers: { authorization: owner, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'db-pass', namespace: stack.namespace, rawValue: Buffer.from(ownerValue).toString('base64') }),
    });
    assert.equal(created.status, 202, await created.text());
    const listed = await fetch(`${stack.gateway.url}/system/secrets?namespace=${stack.namespace}`, { headers: { authorization: owner } });
    const names = await listed.text();
    assert.deepEqual(JSON.parse(names), [
      { name: 'api-key', namespace: stack.namespace },
      { name: 'db-pass', namespace: stack.namespace },
    ]);

    const sha = await repo.commit({ ...files('v3', 'db-pass'), 'README.md': 'v3\n' });
    assert.equal((await repo.push(sha)).status, 202);
    const status = await settled(sha);
    assert.equal(status.state, 'success', status.description);
    assert.equal((await stack.call('sec')).text, `v3:${ownerValue}`);
    assert.ok(!names.includes(ownerValue), 'not in the listing');
    const docker = new Docker();
    const containers = await docker.listContainers({ filters: { label: [`com.openfaas.cloud.git-sha=${sha}`] } });
    assert.ok(containers.length > 0, 'the function runs');
    for (const c of containers) {
      const info = await docker.getContainer(c.Id).inspect();
      assert.ok(!JSON.stringify(info.Config).includes(ownerValue), 'not in env, labels or any container setting');
      assert.equal(info.Mounts.find((m) => m.Destination === '/var/openfaas/secrets/db-pass')?.RW, false, 'mounted read-only');
    }
    // Not in the image: its config, history, and every byte of `docker save` (the layers).
    const image = docker.getImage(containers[0].Image);
    assert.ok(!JSON.stringify(await image.inspect()).includes(ownerValue), 'not in the image config');
    assert.ok(!JSON.stringify(await image.history()).includes(ownerValue), 'not in the image history');
    // The handler's own line is the control: the search does find what a layer holds.
    const control = "fs.readFileSync('/var/openfaas/secrets/db-pass'";
    assert.deepEqual(await foundInStream(await image.get(), [control, ownerValue]), [control], 'in no image layer');
    const buildLog = status.target_url!.startsWith(stack.webhooks.url) ? status.target_url! : stack.github.statusesFor(sha, 'gitfaas').find((s) => s.target_url?.includes('/logs/'))!.target_url!;
    assert.ok(!(await (await fetch(buildLog)).text()).includes(ownerValue), 'not in the build log');
  });
});
