// A second floor for the proxy CPU micro-bench (proxy-cpu.ts), to show what a node proxy
// could cost without node's http module and undici: plain TCP sockets, node's own llhttp
// parser (HTTPParser) validating and framing both directions, and the bytes forwarded as
// received, with header lines spliced in before the end of each head (an X-Forwarded-For and
// an X-Call-Id on the request, an X-Duration-Seconds on the response). One upstream
// connection per client connection, no routing, no pool, no hop-by-hop rewriting, and it
// assumes a head arrives whole in one read: a measure of the ceiling, not a proxy to ship
// (docs/performance.md says what a real one would still have to do).
//   node dist/scripts/bench/splice-floor.js PORT UPSTREAM_URL
import net from 'node:net';
import { HTTPParser, parser, serveFloor, type Parser } from './floor-common.js';

const HEAD_END = Buffer.from('\r\n\r\n');

/** Forwards what `from` sends to `to` once `check` accepted it, with `extra()` spliced before the end of a head. */
function forward(from: net.Socket, to: net.Socket, check: Parser, extra: () => Buffer | string): void {
  from.on('data', (chunk: Buffer) => {
    if (check.execute(chunk) instanceof Error) return from.destroy();
    const end = chunk.indexOf(HEAD_END);
    if (end < 0) return void to.write(chunk);
    to.cork();
    to.write(chunk.subarray(0, end + 2));
    to.write(extra());
    to.write(chunk.subarray(end + 2));
    to.uncork();
  });
}

let calls = 0;
serveFloor('splice-floor.js', (client, up) => {
  const forwardedFor = Buffer.from(`X-Forwarded-For: ${client.remoteAddress}\r\n`);
  forward(client, up, parser(HTTPParser.REQUEST), () => Buffer.concat([forwardedFor, Buffer.from(`X-Call-Id: ${++calls}\r\n`)]));
  forward(up, client, parser(HTTPParser.RESPONSE), () => `X-Duration-Seconds: 0.00${calls % 10}\r\n`);
});
