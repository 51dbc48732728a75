// A third floor for the proxy CPU micro-bench (proxy-cpu.ts): the splice floor
// (splice-floor.ts) with its reads and writes on raw-stream.ts, node's stream layer left out,
// as the fast plane does it. The same splicing, parsing and assumptions as the splice floor:
// a measure of the ceiling, not a proxy to ship.
//   node dist/scripts/bench/raw-floor.js PORT UPSTREAM_URL
import net from 'node:net';
import { HTTPParser, parser, serveFloor, type Parser } from './floor-common.js';
import { RawStream } from '../../services/gateway/raw-stream.js';

const HEAD_END = Buffer.from('\r\n\r\n');

/** Forwards what `from` reads to `to` once `check` accepted it, with `extra()` spliced before the end of a head. */
function forward(from: net.Socket, to: () => RawStream | undefined, check: Parser, extra: () => string): RawStream {
  let raw: RawStream;
  const onRead = (chunk: Buffer): void => {
    const out = to();
    if (out === undefined || check.execute(chunk) instanceof Error) return void from.destroy();
    const end = chunk.indexOf(HEAD_END);
    if (end < 0) {
      if (!out.write(chunk)) raw.pause();
      return;
    }
    const add = extra();
    const joined = Buffer.allocUnsafe(chunk.length + add.length);
    chunk.copy(joined, 0, 0, end + 2);
    joined.write(add, end + 2, 'latin1');
    chunk.copy(joined, end + 2 + add.length, end + 2);
    if (!out.write(joined)) raw.pause();
  };
  raw = new RawStream(from, { onRead, onEnd: () => from.destroy(), onError: () => from.destroy(), onDrain: () => undefined });
  return raw;
}

let calls = 0;
serveFloor('raw-floor.js', (client, up) => {
  let upRaw: RawStream | undefined;
  const forwardedFor = `X-Forwarded-For: ${client.remoteAddress}\r\n`;
  const clientRaw = forward(client, () => upRaw, parser(HTTPParser.REQUEST), () => `${forwardedFor}X-Call-Id: ${++calls}\r\n`);
  clientRaw.pause();
  up.on('connect', () => {
    upRaw = forward(up, () => clientRaw, parser(HTTPParser.RESPONSE), () => `X-Duration-Seconds: 0.00${calls % 10}\r\n`);
    clientRaw.resume();
  });
});
