// Decodes the progress the Docker engine's BuildKit sends during POST /build?version=2:
// messages {"id":"moby.buildkit.trace","aux":"<base64>"} whose payload is BuildKit's
// protobuf StatusResponse (vertexes, statuses, logs). Only the fields a build log needs
// are read, with a small protobuf wire-format reader (no generated code). dockerode ships
// a decoder too, but it is not part of its typed API and prints steps without the
// per-step numbering and CACHED/DONE transitions a readable log (and the cache test) need.

export interface TraceVertex {
  digest: string;
  name: string;
  cached: boolean;
  started: boolean;
  completed: boolean;
  error?: string;
}

export interface TraceLog {
  vertex: string;
  msg: string;
}

export interface TraceStatus {
  vertexes: TraceVertex[];
  logs: TraceLog[];
}

type Field = { no: number; wire: number; value: number | Buffer };

function* fields(buf: Buffer): Generator<Field> {
  let pos = 0;
  const varint = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (pos >= buf.length) throw new Error('truncated varint');
      const byte = buf[pos++];
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
    }
  };
  while (pos < buf.length) {
    const key = varint();
    const no = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) yield { no, wire, value: varint() };
    else if (wire === 2) {
      const len = varint();
      yield { no, wire, value: buf.subarray(pos, pos + len) };
      pos += len;
    } else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
}

// message Vertex { string digest = 1; repeated string inputs = 2; string name = 3; bool cached = 4;
//   Timestamp started = 5; Timestamp completed = 6; string error = 7; ... }
function vertex(buf: Buffer): TraceVertex {
  const v: TraceVertex = { digest: '', name: '', cached: false, started: false, completed: false };
  for (const f of fields(buf)) {
    if (f.no === 1 && f.wire === 2) v.digest = (f.value as Buffer).toString('utf8');
    else if (f.no === 3 && f.wire === 2) v.name = (f.value as Buffer).toString('utf8');
    else if (f.no === 4 && f.wire === 0) v.cached = f.value !== 0;
    else if (f.no === 5) v.started = true;
    else if (f.no === 6) v.completed = true;
    else if (f.no === 7 && f.wire === 2) v.error = (f.value as Buffer).toString('utf8');
  }
  return v;
}

// message VertexLog { string vertex = 1; Timestamp timestamp = 2; int64 stream = 3; bytes msg = 4; }
function log(buf: Buffer): TraceLog {
  const l: TraceLog = { vertex: '', msg: '' };
  for (const f of fields(buf)) {
    if (f.no === 1 && f.wire === 2) l.vertex = (f.value as Buffer).toString('utf8');
    else if (f.no === 4 && f.wire === 2) l.msg = (f.value as Buffer).toString('utf8');
  }
  return l;
}

/** message StatusResponse { repeated Vertex vertexes = 1; repeated VertexStatus statuses = 2; repeated VertexLog logs = 3; } */
export function decodeTrace(aux: string): TraceStatus {
  const status: TraceStatus = { vertexes: [], logs: [] };
  for (const f of fields(Buffer.from(aux, 'base64'))) {
    if (f.wire !== 2) continue;
    if (f.no === 1) status.vertexes.push(vertex(f.value as Buffer));
    else if (f.no === 3) status.logs.push(log(f.value as Buffer));
  }
  return status;
}

/**
 * Turns trace messages into plain-text lines like `docker build --progress=plain`:
 * "#3 [2/4] RUN npm install", "#3 CACHED", "#3 <output>", "#3 DONE", "#3 ERROR: ...".
 * Keeps the per-vertex state needed to print each transition once.
 */
export class TracePrinter {
  private readonly numbers = new Map<string, number>();
  private readonly seen = new Map<string, { started: boolean; done: boolean }>();
  private partial = new Map<string, string>();
  /** Names of the steps that came from the cache. */
  readonly cachedSteps: string[] = [];
  readonly steps: string[] = [];
  /** The step that failed, by number, and the last output lines of every step (for the failure's cause). */
  failedStep: number | undefined;
  private readonly outputs = new Map<number, string[]>();

  /** The last output lines (at most 200) of step n. */
  stepOutput(n: number): string[] {
    return this.outputs.get(n) ?? [];
  }

  private keep(n: number, line: string): void {
    const lines = this.outputs.get(n) ?? [];
    lines.push(line);
    if (lines.length > 200) lines.shift();
    this.outputs.set(n, lines);
  }

  private number(digest: string): number {
    let n = this.numbers.get(digest);
    if (n === undefined) {
      n = this.numbers.size + 1;
      this.numbers.set(digest, n);
    }
    return n;
  }

  lines(status: TraceStatus): string[] {
    const out: string[] = [];
    for (const v of status.vertexes) {
      const n = this.number(v.digest);
      const state = this.seen.get(v.digest) ?? { started: false, done: false };
      if (!state.started && (v.started || v.cached || v.completed)) {
        out.push(`#${n} ${v.name}`);
        state.started = true;
        this.steps.push(v.name);
      }
      if (!state.done && (v.completed || v.error)) {
        if (v.error) {
          out.push(`#${n} ERROR: ${v.error}`);
          this.failedStep ??= n;
        }
        else if (v.cached) {
          out.push(`#${n} CACHED`);
          this.cachedSteps.push(v.name);
        } else out.push(`#${n} DONE`);
        state.done = true;
      }
      this.seen.set(v.digest, state);
    }
    for (const l of status.logs) {
      const n = this.number(l.vertex);
      const text = (this.partial.get(l.vertex) ?? '') + l.msg;
      const parts = text.split(/\r?\n|\r/);
      this.partial.set(l.vertex, parts.pop() ?? '');
      for (const p of parts) {
        out.push(`#${n} ${p}`);
        this.keep(n, p);
      }
    }
    return out;
  }

  /** Output lines still waiting for their newline. */
  flush(): string[] {
    const out: string[] = [];
    for (const [digest, text] of this.partial) {
      if (!text) continue;
      out.push(`#${this.number(digest)} ${text}`);
      this.keep(this.number(digest), text);
    }
    this.partial.clear();
    return out;
  }
}
