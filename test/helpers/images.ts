// Builds the test functions in test/fixtures/functions/<name> and pushes them to the
// local registry, once per process. The tag is a hash of the fixture's files: test runs of
// different checkouts share the engine and the registry, and one whose fixture differs must
// not push over the image another run is about to pull.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import Docker from 'dockerode';
import { repoRoot } from './repo-root.js';

const REGISTRY = '127.0.0.1:5000';
const built = new Map<string, Promise<string>>();

/** Builds test/fixtures/functions/<name> into 127.0.0.1:5000/gitfaas-test/<name>:src-<hash of its files>, pushes it, returns the reference. */
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
  const src = await readdir(context);
  const ref = `${REGISTRY}/gitfaas-test/${name}:src-${await contentHash(context)}`;
  await follow(docker, await docker.buildImage({ context, src }, { t: ref }), `build ${ref}`);
  await follow(docker, await docker.getImage(ref).push({}, undefined, { serveraddress: REGISTRY }), `push ${ref}`);
  return ref;
}

/** A short hash of every file under dir, by relative path and content. */
async function contentHash(dir: string): Promise<string> {
  const hash = createHash('sha256');
  const files = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
  const paths = files.map((e) => path.relative(dir, path.join(e.parentPath, e.name))).sort();
  for (const rel of paths) hash.update(`${rel}\0`).update(await readFile(path.join(dir, rel))).update('\0');
  return hash.digest('hex').slice(0, 12);
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
