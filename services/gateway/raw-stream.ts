// A net.Socket's reads and writes without node's stream layer, for the fast plane
// (fast-plane.ts). A socket taken here hands each read to its sink as it comes (no Readable
// push, no 'data' event, no timer refresh per read), and writes go to libuv's stream at once
// (no Writable queue): a write either reaches the kernel whole before it returns, or the rest
// waits in libuv and the sink hears onDrain when it left. Profiles of the fast plane put
// about a third of its user time in those two layers (docs/performance.md). The socket stays
// a net.Socket for everything else (connect, setNoDelay, destroy, 'close'); release() gives
// its reads back to node's stream, e.g. to hand the connection to node's http server.
// With a user buffer, reads land in one buffer shared by every such socket (no allocation per
// read; node allocates 64 KB and copies per read otherwise).
import type { Socket } from 'node:net';
import { getSystemErrorName } from 'node:util';

interface WriteReq {
  handle: StreamHandle;
  oncomplete: (status: number) => void;
  async: boolean;
  bytes: number;
  buffer: unknown;
  owner: RawStream;
}

interface StreamHandle {
  onread: (this: StreamHandle, arrayBuffer: ArrayBuffer | undefined) => unknown;
  readStart(): number;
  readStop(): number;
  writeBuffer(req: WriteReq, data: Buffer): number;
  writeLatin1String(req: WriteReq, data: string): number;
  [RAW]?: RawStream;
}

// The binding node's own net module reads these from (stream_base_commons.js); process.binding
// gives the same object for 'stream_wrap' without a deprecation warning. test/fast-plane
// tests fail loudly if its shape ever changes.
const binding = (process as unknown as { binding(name: string): unknown }).binding('stream_wrap') as {
  WriteWrap: new () => WriteReq;
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
  kArrayBufferOffset: number;
  kLastWriteWasAsync: number;
};
const { WriteWrap, streamBaseState: state, kReadBytesOrError, kArrayBufferOffset, kLastWriteWasAsync } = binding;
if (typeof WriteWrap !== 'function' || !(state instanceof Int32Array)) throw new Error("raw-stream: node's stream_wrap binding changed shape");

/** libuv's end of file (the same on every platform). */
const UV_EOF = -4095;
const RAW = Symbol('gitfaas.rawStream');

export interface RawSink {
  /** Bytes read; the sink's to keep, unless the stream reads into a user buffer (see the constructor). */
  onRead(data: Buffer): void;
  /** The other side ended its half of the connection. */
  onEnd(): void;
  /** A read or write failed (libuv's negative error number); the socket should be destroyed. */
  onError(errno: number): void;
  /** Every write that had to wait in libuv has reached the kernel. */
  onDrain(): void;
}

function onRead(this: StreamHandle, arrayBuffer: ArrayBuffer | undefined): void {
  const raw = this[RAW];
  if (raw === undefined) return;
  const nread = state[kReadBytesOrError];
  if (nread > 0) raw.sink.onRead(raw.userBuffer !== undefined ? raw.userBuffer.subarray(0, nread) : Buffer.from(arrayBuffer!, state[kArrayBufferOffset], nread));
  else if (nread === UV_EOF) raw.sink.onEnd();
  else if (nread < 0) raw.sink.onError(nread);
}

function onWriteComplete(this: WriteReq, status: number): void {
  const raw = this.owner;
  this.buffer = undefined;
  raw.queued--;
  if (status < 0) raw.sink.onError(status);
  else if (raw.queued === 0) raw.sink.onDrain();
}

export class RawStream {
  private readonly handle: StreamHandle;
  private readonly nodeRead: StreamHandle['onread'];
  /** Writes still waiting in libuv. */
  queued = 0;
  private reading = true;

  /**
   * Takes over `socket`'s reads; the socket must be connected (and reading, or about to be, as
   * net leaves it). With `userBuffer`, every read lands in that one buffer (no allocation per
   * read) and onRead gets a view of it that is only good until it returns.
   */
  constructor(
    readonly socket: Socket,
    public sink: RawSink,
    readonly userBuffer?: Buffer,
  ) {
    const handle = (socket as unknown as { _handle: StreamHandle | null })._handle;
    if (!handle || typeof handle.writeBuffer !== 'function') throw new Error('raw-stream: the socket has no stream handle');
    this.handle = handle;
    this.nodeRead = handle.onread;
    handle[RAW] = this;
    handle.onread = onRead;
    if (userBuffer !== undefined) (handle as unknown as { useUserBuffer(buffer: Buffer): void }).useUserBuffer(userBuffer);
  }

  /** Writes to the kernel now where it can; false when some of it waits in libuv (onDrain follows). */
  write(data: Buffer | string): boolean {
    if (this.socket.destroyed) return true;
    const req = new WriteWrap();
    req.handle = this.handle;
    req.owner = this;
    req.oncomplete = onWriteComplete;
    const err = typeof data === 'string' ? this.handle.writeLatin1String(req, data) : this.handle.writeBuffer(req, data);
    if (err !== 0) {
      process.nextTick(() => this.sink.onError(err));
      return false;
    }
    if (state[kLastWriteWasAsync] === 0) return this.queued === 0;
    if (typeof data !== 'string') req.buffer = data; // libuv holds on to its memory until written
    this.queued++;
    return false;
  }

  pause(): void {
    if (!this.reading || this.socket.destroyed) return;
    this.reading = false;
    this.handle.readStop();
  }

  resume(): void {
    if (this.reading || this.socket.destroyed) return;
    this.reading = true;
    this.handle.readStart();
  }

  /** Gives the socket's reads back to node's stream (reading, as it was taken). */
  release(): void {
    this.resume();
    if (this.userBuffer === undefined) {
      this.handle[RAW] = undefined;
      this.handle.onread = this.nodeRead;
      return;
    }
    // libuv's handle keeps reading into the user buffer (node has no way to undo that): reads
    // are copied into node's stream here, as node's own onStreamRead would push them. Node's
    // http server mostly reads such a socket in C++ (parser.consume), where only the end and
    // errors come this way.
    this.sink = new NodeStreamSink(this.socket, this.handle);
  }
}

/** Feeds a released socket's node stream from reads that land in a user buffer. */
class NodeStreamSink implements RawSink {
  constructor(
    private readonly socket: Socket,
    private readonly handle: StreamHandle,
  ) {}

  onRead(data: Buffer): void {
    const socket = this.socket as Socket & { _unrefTimer?(): void };
    socket._unrefTimer?.(); // the socket's timeout counts from its last read, as in node's onStreamRead
    if (!socket.push(Buffer.from(data))) {
      (this.handle as StreamHandle & { reading: boolean }).reading = false;
      this.handle.readStop(); // node's _read starts it again
    }
  }

  onEnd(): void {
    this.socket.push(null);
    this.socket.read(0);
  }

  onError(errno: number): void {
    const code = getSystemErrorName(errno);
    this.socket.destroy(Object.assign(new Error(`read ${code}`), { code, errno, syscall: 'read' }));
  }

  onDrain(): void {}
}
