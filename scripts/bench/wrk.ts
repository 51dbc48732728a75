// Runs wrk (Debian's) against a URL and reads its figures: requests per second and the
// latency percentiles, which wrk measures to the microsecond.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Figures {
  rps: number;
  /** Requests answered in the run (what CPU time per call divides by). */
  requests: number;
  /** milliseconds */
  p50: number;
  /** milliseconds */
  p99: number;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function toMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!m) throw new Error(`wrk: cannot read the latency "${text}"`);
  return Number(m[1]) * UNIT_MS[m[2]];
}

/** Parses `wrk --latency` output; throws when a request failed or answered non-2xx. */
export function parseWrk(output: string): Figures {
  const percentile = (p: string) => {
    const m = new RegExp(`^\\s*${p}%\\s+(\\S+)\\s*$`, 'm').exec(output);
    if (!m) throw new Error(`wrk: no ${p}th percentile in its output:\n${output}`);
    return toMs(m[1]);
  };
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(output);
  if (!rps) throw new Error(`wrk: no Requests/sec in its output:\n${output}`);
  const requests = /^\s*(\d+) requests in /m.exec(output);
  if (!requests) throw new Error(`wrk: no request count in its output:\n${output}`);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(output);
  const errors = /Socket errors:(.*)/.exec(output);
  if (non2xx) throw new Error(`wrk: ${non2xx[1]} non-2xx answers`);
  // Closing the connections at the end of the run shows as nothing; any read/write/timeout is a failure.
  if (errors && /(read|write|timeout) [1-9]/.test(errors[1])) throw new Error(`wrk: socket errors:${errors[1]}`);
  // A run with no answer at all is a hang, not a figure (seen once: a pooled replica connection left paused).
  if (Number(requests[1]) === 0) throw new Error(`wrk: no request was answered:\n${output}`);
  return { rps: Number(rps[1]), requests: Number(requests[1]), p50: percentile('50'), p99: percentile('99') };
}

/** wrk with `connections` keep-alive connections for `seconds`; one thread per connection up to two. */
export async function wrk(url: string, connections: number, seconds: number): Promise<Figures> {
  const threads = Math.min(2, connections);
  const { stdout } = await run('wrk', ['--latency', `-t${threads}`, `-c${connections}`, `-d${seconds}s`, url], { maxBuffer: 1 << 20 });
  return parseWrk(stdout);
}
