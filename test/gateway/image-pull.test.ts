// Images from a named registry are pulled on deploy and update, so a tag pushed again
// (":latest") is picked up even when a stale copy is present locally.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import Docker from 'dockerode';
import { pack } from 'tar-stream';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { fixtureImage } from '../helpers/images.js';
import { call, deployment, invoke } from './client.js';

const docker = new Docker();
const repo = `127.0.0.1:5000/gitfaas-test/mutable-${randomBytes(4).toString('hex')}`;
let gw: TestGateway;
let echo: string;

function follow(stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve, reject) =>
    docker.modem.followProgress(stream, (err: Error | null, out: Array<{ error?: string }>) => {
      const failed = err?.message ?? out.find((l) => l.error)?.error;
      if (failed) reject(new Error(failed));
      else resolve();
    }),
  );
}

/** Builds FROM the echo image with VERSION set, as repo:latest, and pushes it. */
async function pushVersion(version: string): Promise<void> {
  const context = pack();
  context.entry({ name: 'Dockerfile' }, `FROM ${echo}\nENV VERSION=${version}\n`);
  context.finalize();
  await follow(await docker.buildImage(context as unknown as NodeJS.ReadableStream, { t: `${repo}:latest` }));
  await follow(await docker.getImage(`${repo}:latest`).push({}, undefined, { serveraddress: '127.0.0.1:5000' }));
}

before(async () => {
  echo = await fixtureImage('echo');
  gw = await startTestGateway();
});
after(async () => {
  await gw?.stop();
  await docker.getImage(`${repo}:latest`).remove({ force: true }).catch(() => undefined);
});

test('an update pulls a re-pushed tag even when an older copy is present locally', async () => {
  await pushVersion('m1');
  assert.equal((await call(gw, 'POST', '/system/functions', deployment(gw, 'mutable', `${repo}:latest`))).status, 202);
  assert.equal((await invoke(gw, `mutable.${gw.namespace}`)).json().version, 'm1');

  await pushVersion('m2');
  // Make the local copy stale again: the registry has m2, this engine's tag points at m1's parent.
  await docker.getImage(echo).tag({ repo, tag: 'latest' });
  assert.equal((await call(gw, 'PUT', '/system/functions', deployment(gw, 'mutable', `${repo}:latest`))).status, 202);
  assert.equal((await invoke(gw, `mutable.${gw.namespace}`)).json().version, 'm2');
});
