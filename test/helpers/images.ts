// Builds the test functions in test/fixtures/functions/<name> and pushes them to the
// local registry, once per process.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import Docker from 'dockerode';
import { repoRoot } from './repo-root.js';

const REGISTRY = '127.0.0.1:5000';
const built = new Map<string, Promise<string>>();

/** Builds test/fixtures/functions/<name> into 127.0.0.1:5000/gitfaas-test/<name>:latest, pushes it, returns the reference. */
export function fixtureImage(name = 'echo'): Promise<string> {
  let image = built.get(name);
  if (!image) {
    image = buildAndPush(name);
    built.set(name, image);
    image.catch(() => built.delete(name));
  }
  return image;
}

async function buildAndPush(name: string): Promise<string> {
  const docker = new Docker();
  const context = path.join(repoRoot(), 'test/fixtures/functions', name);
  const ref = `${REGISTRY}/gitfaas-test/${name}:latest`;
  const src = await readdir(context);
  await follow(docker, await docker.buildImage({ context, src }, { t: ref }), `build ${ref}`);
  await follow(docker, await docker.getImage(ref).push({}, undefined, { serveraddress: REGISTRY }), `push ${ref}`);
  return ref;
}

/** Waits for a build or push progress stream, failing on any error it reports. */
function follow(docker: Docker, stream: NodeJS.ReadableStream, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, output: Array<{ error?: string; errorDetail?: { message?: string } }>) => {
      if (err) return reject(new Error(`${what} failed: ${err.message}`, { cause: err }));
      const failed = output.find((line) => line.error || line.errorDetail);
      if (failed) return reject(new Error(`${what} failed: ${failed.error ?? failed.errorDetail?.message}`));
      resolve();
    });
  });
}
