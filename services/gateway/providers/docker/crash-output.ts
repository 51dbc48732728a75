// What a replica that never became ready printed, made readable: Docker's multiplexed log
// stream demultiplexed (8-byte frame headers, not text), and the part that explains the
// crash picked out: the first error line with the lines around it (for Node, the file and
// line above "SyntaxError: ..."), not only the last lines, which are often a stack trace.

/** Docker's log stream as text: frames of stdout/stderr are joined; a TTY stream is raw already. */
export function demuxDockerLog(buffer: Buffer): string {
  const framed = buffer.length >= 8 && buffer[0] <= 2 && buffer[1] === 0 && buffer[2] === 0 && buffer[3] === 0;
  if (!framed) return buffer.toString('utf8');
  const parts: Buffer[] = [];
  let at = 0;
  while (at + 8 <= buffer.length) {
    const size = buffer.readUInt32BE(at + 4);
    parts.push(buffer.subarray(at + 8, Math.min(buffer.length, at + 8 + size)));
    at += 8 + size;
  }
  return Buffer.concat(parts).toString('utf8');
}

const ERROR_LINE = /(^|\s)([A-Z][A-Za-z]*(Error|Exception)\b|Traceback \(most recent call last\)|panic:|fatal:|FATAL|Error:)/;
const LOCATION = /^\s*(\/|[A-Za-z]:\\|File ")\S*.*:\d+/;
const CONTEXT_BEFORE = 4;
const CONTEXT_AFTER = 6;
const MAX_LINES = 30;

export interface CrashExcerpt {
  /** One line for a status: the error line, with where it happened when the output says. */
  headline?: string;
  /** The lines worth reading: around the first error line, then the last lines if apart. */
  lines: string[];
}

export function crashExcerpt(text: string): CrashExcerpt {
  const all = text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((l) => l.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '').trimEnd());
  while (all.length && !all[all.length - 1]) all.pop();
  const first = all.findIndex((l) => ERROR_LINE.test(l));
  if (first === -1) return { lines: all.slice(-10), ...(all.length ? { headline: all[all.length - 1].trim() } : {}) };
  const start = Math.max(0, first - CONTEXT_BEFORE);
  const end = Math.min(all.length, first + CONTEXT_AFTER + 1);
  const lines = all.slice(start, end);
  if (end < all.length) {
    const last = all.slice(Math.max(end, all.length - 4));
    if (last.length) lines.push(all.length - 4 > end ? '…' : '', ...last);
  }
  const location = all.slice(0, first).reverse().find((l) => LOCATION.test(l))?.trim();
  const error = all[first].trim();
  return { headline: location ? `${error} (${location})` : error, lines: lines.filter((l, i) => l || i > 0).slice(0, MAX_LINES) };
}
