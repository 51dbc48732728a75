// Function logs from the replicas' container output (Docker's json-file log), as
// OpenFaaS log messages. Several replicas are merged; with follow, lines arrive as written.
import type Docker from 'dockerode';
import type { LogMessage, LogRequest } from '../provider.js';

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

interface OpenOptions {
  tail?: number;
  since?: number;
}

async function open(docker: Docker, source: Source, request: LogRequest, at: OpenOptions): Promise<AsyncIterable<Buffer> | Buffer> {
  const options = {
    stdout: true,
    stderr: true,
    timestamps: true,
    follow: request.follow,
    tail: at.tail !== undefined && at.tail >= 0 ? at.tail : 'all',
    since: at.since,
    abortSignal: request.signal,
  };
  return (await docker.getContainer(source.id).logs(options as never)) as unknown as AsyncIterable<Buffer> | Buffer;
}

/**
 * Log lines of a function's replicas. `current` lists the running replicas now (undefined
 * once the function is gone); with follow, replicas that start later (scale-up, rolling
 * update, restart) join the stream, and it ends when the function is removed or the caller
 * aborts.
 */
export async function* containerLogs(docker: Docker, current: () => Source[] | undefined, request: LogRequest): AsyncGenerator<LogMessage> {
  const since = request.since ? Math.floor(request.since.getTime() / 1000) : undefined;
  if (!request.follow) {
    const all: LogMessage[] = [];
    for (const source of current() ?? []) {
      for await (const line of lines(await open(docker, source, request, { tail: request.tail, since }))) all.push(message(request, source, line));
    }
    all.sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0));
    const tail = request.tail !== undefined && request.tail >= 0 ? request.tail : all.length;
    yield* tail === 0 ? [] : all.slice(-tail);
    return;
  }
  const queue: LogMessage[] = [];
  const open_ = new Set<string>();
  /** When a replica's stream ended (it stopped); if it runs again, it resumes from there. */
  const endedAt = new Map<string, number>();
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const pump = async (source: Source, at: OpenOptions) => {
    try {
      for await (const line of lines(await open(docker, source, request, at))) {
        queue.push(message(request, source, line));
        notify();
      }
    } catch {
      // The replica went away or the caller aborted: its stream simply ends.
    } finally {
      open_.delete(source.id);
      endedAt.set(source.id, Math.floor(Date.now() / 1000));
      notify();
    }
  };
  let gone = false;
  const discover = (first: boolean) => {
    const sources = current();
    if (!sources) gone = true;
    for (const source of sources ?? []) {
      if (open_.has(source.id)) continue;
      open_.add(source.id);
      const resume = endedAt.get(source.id);
      // Replicas there from the start honour tail and since; later ones are read whole.
      void pump(source, first ? { tail: request.tail, since } : { since: resume });
    }
    notify();
  };
  request.signal.addEventListener('abort', notify, { once: true });
  discover(true);
  const timer = setInterval(() => discover(false), 1000);
  try {
    while (!request.signal.aborted) {
      if (queue.length) {
        yield queue.shift()!;
        continue;
      }
      if (gone && open_.size === 0) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    clearInterval(timer);
    request.signal.removeEventListener('abort', notify);
  }
}
