// node's binding of llhttp, as the two socket floors of the proxy CPU micro-bench use it
// (splice-floor.ts, raw-floor.ts): a parser that only validates and frames, with no-op
// callbacks. No typings: the binding is internal to node.
import { createRequire } from 'node:module';

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
