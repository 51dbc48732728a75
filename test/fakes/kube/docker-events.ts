// Docker's event stream for the stand-in's containers: die, oom and destroy, so the kubelet
// learns of a container killed or removed behind its back.
import type Docker from 'dockerode';

export async function watchContainers(
  docker: Docker,
  label: string,
  onEvent: (action: string, id: string, exitCode: number) => void,
  onError: (err: unknown) => void,
): Promise<() => void> {
  const stream = (await docker.getEvents({ filters: { type: ['container'], label: [label], event: ['die', 'destroy'] } })) as NodeJS.ReadableStream & { destroy(): void };
  let buffered = '';
  stream.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (!line) continue;
      try {
        const e = JSON.parse(line);
        onEvent(e.Action, e.Actor?.ID ?? e.id, Number(e.Actor?.Attributes?.exitCode ?? 137));
      } catch (err) {
        onError(err);
      }
    }
  });
  stream.on('error', onError);
  return () => stream.destroy();
}
