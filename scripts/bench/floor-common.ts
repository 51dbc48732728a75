// What the two socket floors of the proxy CPU micro-bench share (splice-floor.ts,
// raw-floor.ts): node's binding of llhttp as a parser that only validates and frames (no-op
// callbacks; no typings, the binding is internal to node), and the server: PORT and
// UPSTREAM_URL from the command line, one upstream connection per client connection, both
// ended together, every socket closed at SIGTERM.
import { createRequire } from 'node:module';
import net from 'node:net';

export interface Parser {
  initialize(type: number, resource: object): void;
  execute(data: Buffer): number | Error;
  [callback: number]: () => void;
}

export const { HTTPParser } = createRequire(import.meta.url)('_http_common') as {
  HTTPParser: { new (): Parser; REQUEST: number; RESPONSE: number; kOnHeadersComplete: number; kOnBody: number; kOnMessageComplete: number };
};

export function parser(type: number): Parser {
  const p = new HTTPParser();
  p.initialize(type, {});
  for (const k of [HTTPParser.kOnHeadersComplete, HTTPParser.kOnBody, HTTPParser.kOnMessageComplete]) p[k] = () => undefined;
  return p;
}

/** Serves on PORT: `pair` wires each client to its own new connection to UPSTREAM_URL. */
export function serveFloor(script: string, pair: (client: net.Socket, upstream: net.Socket) => void): void {
  const [port, upstream] = process.argv.slice(2);
  if (!port || !upstream) throw new Error(`usage: ${script} PORT UPSTREAM_URL`);
  const upstreamPort = Number(new URL(upstream).port);
  const open = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (client) => {
    open.add(client);
    client.on('close', () => open.delete(client));
    const up = net.connect({ host: '127.0.0.1', port: upstreamPort, noDelay: true });
    pair(client, up);
    client.on('close', () => up.destroy());
    up.on('close', () => client.destroy());
    client.on('error', () => undefined);
    up.on('error', () => undefined);
  });
  server.listen(Number(port), '127.0.0.1');
  process.on('SIGTERM', () => {
    server.close();
    for (const socket of open) socket.destroy();
  });
}
