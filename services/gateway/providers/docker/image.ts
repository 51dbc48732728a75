// Makes sure a deployment's image is present. An image from a named registry (its first
// path part has a "." or ":" or is "localhost", e.g. 127.0.0.1:5000/...) is pulled on every
// deploy and update, so a re-pushed tag is picked up; if that registry cannot be reached, a
// local copy is used. Other images (Docker Hub names, local builds) are pulled only when
// missing. The local registry (127.0.0.1:5000) is insecure by default in dockerd.
import type Docker from 'dockerode';
import { imageReferenceProblem, shown } from '../../../../shared/image-ref.js';
import type { Logger } from '../../../../shared/logger.js';
import { ProviderError } from '../provider.js';

export function fromNamedRegistry(image: string): boolean {
  const slash = image.indexOf('/');
  if (slash === -1) return false;
  const first = image.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost';
}

export async function ensureImage(docker: Docker, image: string, log: Logger): Promise<void> {
  // The gateway checks this too; the provider must be safe on its own (the engine answers
  // some malformed references with a redirect that docker-modem follows to nowhere).
  const problem = imageReferenceProblem(image);
  if (problem) throw new ProviderError('invalid', `image "${shown(image)}" ${problem}`);
  const local = await isLocal(docker, image);
  if (local && !fromNamedRegistry(image)) return;
  try {
    await pull(docker, image);
  } catch (err) {
    if (!local) throw err;
    log.warn({ image, err: (err as Error).message }, 'pull failed; using the local copy of the image');
  }
}

async function isLocal(docker: Docker, image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch (err) {
    const status = (err as { statusCode?: number }).statusCode;
    if (status === 404) return false;
    const reason = (err as { json?: { message?: string } }).json?.message ?? (err as Error).message;
    if (status && status < 500) throw new ProviderError('image', `image "${image}" is not a valid image reference: ${reason}`, { cause: err });
    throw new ProviderError('unavailable', `Docker did not answer about image "${image}": ${reason}`, { cause: err });
  }
}

async function pull(docker: Docker, image: string): Promise<void> {
  let stream: NodeJS.ReadableStream;
  try {
    stream = (await docker.pull(image)) as NodeJS.ReadableStream;
  } catch (err) {
    throw cannotPull(image, err);
  }
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, output: Array<{ error?: string }>) => {
      const failed = err?.message ?? output.find((line) => line.error)?.error;
      if (failed) reject(cannotPull(image, new Error(failed)));
      else resolve();
    });
  });
}

function cannotPull(image: string, err: unknown): ProviderError {
  const reason = ((err as { json?: { message?: string } }).json?.message ?? (err as Error).message ?? String(err)).trim();
  return new ProviderError('image', `image "${image}" is not present and cannot be pulled: ${reason}`, { cause: err });
}
