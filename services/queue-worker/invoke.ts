// One attempt at a queued call: the original method, sub-path, query, headers and body,
// sent to the gateway's /function/NAME.NAMESPACE route (so the call gets the same
// routing, scaling and timeouts as a synchronous one).
import { request, type Dispatcher } from 'undici';
import type { AsyncCall, HeaderPairs } from '../../shared/async-message.js';
import { hopByHopAnd } from '../../shared/hop-by-hop.js';

export type Outcome =
  | { kind: 'response'; status: number; headers: HeaderPairs; body: Buffer; durationMs: number; retryAfter?: string }
  | { kind: 'error'; error: string; durationMs: number };

/** Never forwarded: the hop-by-hop headers, Host and Content-Length (undici sets both for its own hop). */
export const HOP_BY_HOP: ReadonlySet<string> = hopByHopAnd('host', 'content-length');

export function responseHeaderPairs(headers: Record<string, string | string[] | undefined>): HeaderPairs {
  const out: HeaderPairs = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    for (const v of Array.isArray(value) ? value : [value]) out.push([name, v]);
  }
  return out;
}

export function functionUrl(gatewayUrl: string, call: Pick<AsyncCall, 'name' | 'namespace' | 'path' | 'query'>): string {
  const path = call.path && !call.path.startsWith('/') ? `/${call.path}` : call.path;
  return `${gatewayUrl}/function/${call.name}.${call.namespace}${path}${call.query ? `?${call.query}` : ''}`;
}

export async function invokeOnce(
  dispatcher: Dispatcher,
  gatewayUrl: string,
  call: AsyncCall,
  attempt: number,
  timeoutMs: number,
): Promise<Outcome> {
  const started = performance.now();
  const headers: string[] = [];
  for (const [name, value] of call.headers) {
    if (!HOP_BY_HOP.has(name.toLowerCase())) headers.push(name, value);
  }
  headers.push('X-Call-Id', call.callId, 'X-Start-Time', String(call.enqueuedAt), 'X-Async-Attempt', String(attempt));
  const noBody = call.method === 'GET' || call.method === 'HEAD';
  try {
    const res = await request(functionUrl(gatewayUrl, call), {
      method: call.method as Dispatcher.HttpMethod,
      headers,
      body: noBody ? undefined : Buffer.from(call.body.buffer, call.body.byteOffset, call.body.byteLength),
      dispatcher,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const body = Buffer.from(await res.body.arrayBuffer());
    const retryAfter = res.headers['retry-after'];
    return {
      kind: 'response',
      status: res.statusCode,
      headers: responseHeaderPairs(res.headers),
      body,
      durationMs: performance.now() - started,
      retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
    };
  } catch (err) {
    const e = err as Error & { code?: string };
    return { kind: 'error', error: `${e.code ?? e.name}: ${e.message}`, durationMs: performance.now() - started };
  }
}
