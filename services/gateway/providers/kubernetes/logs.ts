// Function logs from pods/log across every replica, as OpenFaaS log messages. Several pods
// are merged; with follow, lines arrive as written and pods that start later (scale-up,
// rolling update, a replaced replica) join the stream, as the Docker provider does.
import { PassThrough } from 'node:stream';
import { createInterface } from 'node:readline';
import { Log, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { LogMessage, LogRequest } from '../provider.js';

interface Source {
  pod: string;
  container: string;
}

function message(request: LogRequest, pod: string, line: string): LogMessage {
  // With timestamps=true every line starts with an RFC 3339 time and a space.
  const space = line.indexOf(' ');
  const stamp = space > 0 ? Date.parse(line.slice(0, space)) : NaN;
  return {
    name: request.name,
    namespace: request.namespace,
    instance: pod,
    timestamp: Number.isNaN(stamp) ? new Date().toISOString() : new Date(stamp).toISOString(),
    text: Number.isNaN(stamp) ? line : line.slice(space + 1),
  };
}

/** Reads one pod's log, calling `line` per line; resolves when the stream ends or the caller aborts. */
async function read(kc: KubeConfig, request: LogRequest, source: Source, from: { tail?: number; since?: Date }, line: (text: string) => void): Promise<void> {
  const sink = new PassThrough();
  const ended = new Promise<void>((resolve) => {
    const lines = createInterface({ input: sink });
    lines.on('line', line);
    lines.on('close', resolve);
  });
  let controller: AbortController | undefined;
  const abort = () => {
    controller?.abort();
    sink.end();
  };
  request.signal.addEventListener('abort', abort, { once: true });
  try {
    controller = await new Log(kc).log(request.namespace, source.pod, source.container, sink, {
      follow: request.follow,
      timestamps: true,
      tailLines: from.tail !== undefined && from.tail > 0 ? from.tail : undefined,
      sinceTime: from.since?.toISOString(),
    });
    if (request.signal.aborted) abort();
    await ended;
  } catch {
    // The pod went away, or is not started yet: it simply adds nothing (now).
    sink.end();
  } finally {
    request.signal.removeEventListener('abort', abort);
  }
}

export function sourcesOf(pods: readonly V1Pod[], follow: boolean): Source[] {
  return pods
    .filter((p) => !p.metadata?.deletionTimestamp && (!follow || p.status?.phase === 'Running'))
    .filter((p) => p.status?.phase !== 'Pending')
    .map((p) => ({ pod: p.metadata!.name!, container: p.spec!.containers[0].name }));
}

/**
 * Log lines of a function's pods. `current` lists the pods to read now (undefined once the
 * function is gone); with follow, pods that start later join, and the stream ends when the
 * function is removed or the caller aborts.
 */
export async function* podLogs(kc: KubeConfig, current: () => Promise<Source[] | undefined>, request: LogRequest): AsyncGenerator<LogMessage> {
  const tail = request.tail !== undefined && request.tail >= 0 ? request.tail : undefined;
  if (!request.follow) {
    const all: LogMessage[] = [];
    if (tail === 0) return;
    for (const source of (await current()) ?? []) {
      await read(kc, request, source, { tail, since: request.since }, (text) => all.push(message(request, source.pod, text)));
    }
    all.sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0));
    yield* tail === undefined ? all : all.slice(-tail);
    return;
  }
  const queue: LogMessage[] = [];
  const reading = new Set<string>();
  const seen = new Set<string>();
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  let gone = false;
  const discover = async (first: boolean) => {
    const sources = await current().catch(() => [] as Source[]);
    if (!sources) gone = true;
    for (const source of sources ?? []) {
      // A pod is read once: a new replica is a new pod (Kubernetes never reuses pod names).
      if (seen.has(source.pod)) continue;
      seen.add(source.pod);
      reading.add(source.pod);
      // Pods there from the start honour tail and since; later ones are read whole.
      const from = first ? { tail: tail === 0 ? undefined : tail, since: tail === 0 ? new Date() : request.since } : {};
      void read(kc, request, source, from, (text) => {
        queue.push(message(request, source.pod, text));
        notify();
      }).finally(() => {
        reading.delete(source.pod);
        notify();
      });
    }
    notify();
  };
  request.signal.addEventListener('abort', notify, { once: true });
  await discover(true);
  const timer = setInterval(() => void discover(false), 1000);
  try {
    while (!request.signal.aborted) {
      if (queue.length) {
        yield queue.shift()!;
        continue;
      }
      if (gone && reading.size === 0) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    clearInterval(timer);
    request.signal.removeEventListener('abort', notify);
  }
}
