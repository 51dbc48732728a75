// Replicas may end header lines with a bare LF (small embedded servers and CGI setups do;
// RFC 9112 2.2 lets a recipient accept it). undici's parser is strict and offers no option,
// so for the gateway's upstream connections only, llhttp's narrowest leniency is switched on:
// "optional CR before LF". Framing stays strict (Content-Length with Transfer-Encoding,
// duplicate Content-Length, bad chunk sizes are still errors), and the gateway re-serialises
// every header it forwards, so no bare LF ever reaches a client. The hook is undici's public
// diagnostics channel; reaching the parser relies on undici internals, so it is checked
// (lenientUpstreamsWork) and its absence is reported, never a crash.
import diagnostics from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { buildConnector } from 'undici';

/** Sockets our connectors made (undici wraps a custom connector, so the socket is what identifies them). */
const ours = new WeakSet<object>();
let subscribed = false;
let failures = 0;

interface LlhttpParser {
  llhttp: { llhttp_set_lenient_optional_cr_before_lf?: (ptr: number, on: number) => void };
  ptr: number;
}

function parserOf(socket: Socket): LlhttpParser | undefined {
  const key = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'parser');
  const parser = key && (socket as unknown as Record<symbol, LlhttpParser | null>)[key];
  return parser && typeof parser.llhttp?.llhttp_set_lenient_optional_cr_before_lf === 'function' ? parser : undefined;
}

function onConnected(message: unknown): void {
  const { socket } = message as { socket: Socket };
  if (!ours.has(socket)) return;
  const parser = parserOf(socket);
  if (parser) parser.llhttp.llhttp_set_lenient_optional_cr_before_lf!(parser.ptr, 1);
  else failures++;
}

/** A connector for upstream pools whose connections accept bare-LF line ends from the replica. */
export function lenientConnector(options: buildConnector.BuildOptions): buildConnector.connector {
  if (!subscribed) {
    diagnostics.subscribe('undici:client:connected', onConnected);
    subscribed = true;
  }
  const connect = buildConnector(options);
  return (opts, callback) =>
    connect(opts, (err, socket) => {
      if (socket) ours.add(socket);
      (callback as (err: Error | null, socket: Socket | null) => void)(err, socket as Socket | null);
    });
}

/** False once a connection could not be made lenient (an undici upgrade changed its internals). */
export const lenientUpstreamsWork = (): boolean => failures === 0;
