// Headers that describe one connection, not the message (RFC 9110 7.6.1, plus the
// non-standard keep-alive and proxy-connection): never copied from one hop to the next.
// One list for the gateway's proxy and async routes and the queue-worker; each adds what
// its own hop also rewrites (host, content-length, expect) where it uses it.
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** HOP_BY_HOP and the given lower-case names, built once at load. */
export function hopByHopAnd(...names: string[]): ReadonlySet<string> {
  return new Set([...HOP_BY_HOP, ...names]);
}
