// Makes sure an image is present locally, pulling it when it is not. The local registry
// (127.0.0.1:5000) is insecure by default in dockerd, so no daemon setting is needed.
import type Docker from 'dockerode';
import { ProviderError } from './provider.js';

export async function ensureImage(docker: Docker, image: string): Promise<void> {
  try {
    await docker.getImage(image).inspect();
    return;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw unreachable(image, err);
  }
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

function unreachable(image: string, err: unknown): ProviderError {
  const reason = (err as { json?: { message?: string } }).json?.message ?? (err as Error).message;
  const status = (err as { statusCode?: number }).statusCode;
  if (status && status < 500) return new ProviderError('image', `image "${image}" is not a valid image reference: ${reason}`, { cause: err });
  return new ProviderError('unavailable', `Docker did not answer about image "${image}": ${reason}`, { cause: err });
}
