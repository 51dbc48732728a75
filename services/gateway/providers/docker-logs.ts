// Function logs from the replicas' container output (Docker's json-file log), as
// OpenFaaS log messages. Several replicas are merged; with follow, lines arrive as written.
import type Docker from 'dockerode';
import type { LogMessage, LogRequest } from './provider.js';

interface Source {
  id: string;
  name: string;
}

/** Splits Docker's multiplexed stdout/stderr frames (8-byte headers) into text lines. */
async function* lines(chunks: AsyncIterable<Buffer> | Buffer): AsyncGenerator<string> {
  let pending: Buffer = Buffer.alloc(0);
  let text = '';
  const iterable: AsyncIterable<Buffer> | Buffer[] = Buffer.isBuffer(chunks) ? [chunks] : chunks;
  for await (const chunk of iterable) {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 8) {
      const size = pending.readUInt32BE(4);
      if (pending.length < 8 + size) break;
      text += pending.subarray(8, 8 + size).toString('utf8');
      pending = pending.subarray(8 + size);
    }
    let nl: number;
    while ((nl = text.indexOf('\n')) !== -1) {
      yield text.slice(0, nl);
      text = text.slice(nl + 1);
    }
  }
  if (text) yield text;
}

function message(request: LogRequest, source: Source, line: string): LogMessage {
  const space = line.indexOf(' ');
  return {
    name: request.name,
    namespace: request.namespace,
    instance: source.name,
    timestamp: space > 0 ? line.slice(0, space) : new Date().toISOString(),
    text: space > 0 ? line.slice(space + 1) : line,
  };
}

async function open(docker: Docker, source: Source, request: LogRequest): Promise<AsyncIterable<Buffer> | Buffer> {
  const options = {
    stdout: true,
    stderr: true,
    timestamps: true,
    follow: request.follow,
    tail: request.tail !== undefined && request.tail >= 0 ? request.tail : 'all',
    since: request.since ? Math.floor(request.since.getTime() / 1000) : undefined,
    abortSignal: request.signal,
  };
  return (await docker.getContainer(source.id).logs(options as never)) as unknown as AsyncIterable<Buffer> | Buffer;
}

export async function* containerLogs(docker: Docker, sources: Source[], request: LogRequest): AsyncGenerator<LogMessage> {
  if (!request.follow) {
    const all: LogMessage[] = [];
    for (const source of sources) {
      for await (const line of lines(await open(docker, source, request))) all.push(message(request, source, line));
    }
    all.sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0));
    const tail = request.tail !== undefined && request.tail >= 0 ? request.tail : all.length;
    yield* tail === 0 ? [] : all.slice(-tail);
    return;
  }
  // Follow: merge the replicas' streams as lines arrive, until the caller aborts.
  const queue: LogMessage[] = [];
  let wake: (() => void) | undefined;
  let running = sources.length;
  const pump = async (source: Source) => {
    try {
      for await (const line of lines(await open(docker, source, request))) {
        queue.push(message(request, source, line));
        wake?.();
      }
    } catch {
      // The replica went away or the caller aborted: its stream simply ends.
    } finally {
      running -= 1;
      wake?.();
    }
  };
  for (const source of sources) void pump(source);
  while (!request.signal.aborted) {
    if (queue.length) {
      yield queue.shift()!;
      continue;
    }
    if (running === 0) return;
    await new Promise<void>((resolve) => {
      wake = resolve;
      request.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    wake = undefined;
  }
}
