// Image pulls for the kubelet: honours imagePullPolicy (Always pulls, IfNotPresent and
// Never use the local image), one pull per image at a time.
import type Docker from 'dockerode';

const pulling = new Map<string, Promise<void>>();

function pull(docker: Docker, image: string): Promise<void> {
  let running = pulling.get(image);
  if (!running) {
    running = new Promise<void>((resolve, reject) => {
      docker.pull(image, (err: Error | null, stream: NodeJS.ReadableStream) => {
        if (err) return reject(new Error(`failed to pull image "${image}": ${err.message}`));
        docker.modem.followProgress(stream, (done: Error | null, output: any[]) => {
          const failed = output?.find((l) => l.error || l.errorDetail);
          if (done || failed) return reject(new Error(`failed to pull image "${image}": ${done?.message ?? failed.error ?? failed.errorDetail?.message}`));
          resolve();
        });
      });
    }).finally(() => pulling.delete(image));
    pulling.set(image, running);
  }
  return running;
}

/** Makes the image present locally and answers its id ("docker-pullable://..." is not worth faking). */
export async function pullImage(docker: Docker, image: string, policy: string | undefined): Promise<string> {
  const local = () => docker.getImage(image).inspect();
  if (policy !== 'Always') {
    try {
      return (await local()).Id;
    } catch (err) {
      if (policy === 'Never') throw new Error(`Container image "${image}" is not present with pull policy of Never`, { cause: err });
    }
  }
  await pull(docker, image);
  return (await local()).Id;
}
