// GET pods/{name}/log: the container's output from Docker, with the API server's options
// (container, follow, tailLines, sinceSeconds, sinceTime, timestamps, limitBytes). Docker's
// --timestamps format is the RFC 3339 nano one the kubelet writes. A container not running
// yet is a 400 saying what it waits for, as the API server answers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { badRequest } from './status.js';

export async function serveLog(docker: Docker, containerId: string | undefined, req: IncomingMessage, res: ServerResponse, pod: any, q: URLSearchParams): Promise<void> {
  const names: string[] = pod.spec.containers.map((c: any) => c.name);
  const container = q.get('container') ?? names[0];
  if (!names.includes(container)) throw badRequest(`container ${container} is not valid for pod ${pod.metadata.name}`);
  if (names.indexOf(container) !== 0) throw badRequest(`container ${container} in pod ${pod.metadata.name}: the stand-in runs only a pod's first container`);
  const waiting = pod.status?.containerStatuses?.[0]?.state?.waiting;
  if (!containerId) {
    throw badRequest(`container "${container}" in pod "${pod.metadata.name}" is waiting to start: ${waiting?.reason ?? 'ContainerCreating'}`);
  }
  const follow = q.get('follow') === 'true';
  const tail = q.get('tailLines');
  const sinceSeconds = q.get('sinceSeconds');
  const sinceTime = q.get('sinceTime');
  const since = sinceSeconds ? Math.floor(Date.now() / 1000) - Number(sinceSeconds) : sinceTime ? Math.floor(Date.parse(sinceTime) / 1000) : 0;
  const options = {
    stdout: true,
    stderr: true,
    timestamps: q.get('timestamps') === 'true',
    ...(tail ? { tail: Number(tail) } : {}),
    ...(since ? { since } : {}),
  };
  const target = docker.getContainer(containerId);
  const limit = q.get('limitBytes') ? Number(q.get('limitBytes')) : Infinity;
  res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
  res.flushHeaders();
  let sent = 0;
  const write = (chunk: Buffer) => {
    if (sent >= limit) return;
    const part = chunk.subarray(0, limit - sent);
    sent += part.length;
    res.write(part);
    if (sent >= limit) res.end();
  };
  if (!follow) {
    const raw = (await target.logs({ ...options, follow: false })) as unknown as Buffer;
    demux(raw, write);
    res.end();
    return;
  }
  const stream = (await target.logs({ ...options, follow: true })) as NodeJS.ReadableStream & { destroy(): void };
  const out = new PassThrough();
  out.on('data', write);
  docker.modem.demuxStream(stream, out, out);
  stream.on('end', () => res.end());
  stream.on('error', () => res.end());
  req.on('close', () => stream.destroy());
  res.on('close', () => stream.destroy());
}

/** Docker's multiplexed log frames (8-byte header: stream, 0, 0, 0, size) to plain bytes. */
function demux(raw: Buffer, write: (chunk: Buffer) => void): void {
  let at = 0;
  while (at + 8 <= raw.length) {
    const size = raw.readUInt32BE(at + 4);
    write(raw.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
}
