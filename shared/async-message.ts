// The wire format of an asynchronous call in JetStream. The request body travels as the
// message's raw bytes; everything else rides in NATS message headers, so nothing is
// base64-encoded and the body is never copied into JSON. The gateway writes these
// messages, the queue-worker reads them, and dead letters keep the same headers.
import { headers as natsHeaders, type JetStreamClient, type MsgHdrs, type PubAck } from 'nats';

export const HDR = {
  callId: 'Gitfaas-Call-Id',
  name: 'Gitfaas-Function',
  namespace: 'Gitfaas-Namespace',
  method: 'Gitfaas-Method',
  path: 'Gitfaas-Path',
  query: 'Gitfaas-Query',
  /** The forwarded HTTP request headers, as a JSON array of [name, value] pairs. */
  headers: 'Gitfaas-Headers',
  callbackUrl: 'Gitfaas-Callback-Url',
  /** Milliseconds since the epoch at which the gateway accepted the call. */
  enqueuedAt: 'Gitfaas-Enqueued-At',
  /** Sequence of the dead letter this call was replayed from. */
  replayOf: 'Gitfaas-Replay-Of',
} as const;

export type HeaderPairs = [string, string][];

export interface AsyncCall {
  callId: string;
  name: string;
  namespace: string;
  method: string;
  /** Sub-path after the function reference, '' or starting with '/'. */
  path: string;
  /** Raw query string without '?', '' when none. */
  query: string;
  headers: HeaderPairs;
  callbackUrl?: string;
  enqueuedAt: number;
  replayOf?: number;
  body: Uint8Array;
}

export class MalformedCallError extends Error {
  override name = 'MalformedCallError';
}

/** Subjects of the work stream and the dead-letter stream. Names and namespaces are DNS labels, safe as tokens. */
export const invokeSubject = (prefix: string, namespace: string, name: string) => `${prefix}.invoke.${namespace}.${name}`;
export const callbackSubject = (prefix: string, namespace: string, name: string) => `${prefix}.callback.${namespace}.${name}`;
export const deadSubject = (prefix: string, namespace: string, name: string) => `${prefix}.${namespace}.${name}`;

/**
 * The Nats-Msg-Id of a call: the call id, so a client retrying with the same X-Call-Id
 * inside the duplicate window is stored once. A replay gets its own id, or the window
 * would swallow it.
 */
export const callMsgId = (call: Pick<AsyncCall, 'callId' | 'replayOf'>) =>
  call.replayOf === undefined ? call.callId : `${call.callId}.replay-${call.replayOf}`;

/** A call id a client may choose: printable, no spaces, safe inside a NATS header. */
export const CALL_ID = /^[A-Za-z0-9._:@+=-]{1,128}$/;

export function callHeaders(call: Omit<AsyncCall, 'body'>): MsgHdrs {
  const h = natsHeaders();
  h.set(HDR.callId, call.callId);
  h.set(HDR.name, call.name);
  h.set(HDR.namespace, call.namespace);
  h.set(HDR.method, call.method);
  h.set(HDR.path, call.path);
  h.set(HDR.query, call.query);
  h.set(HDR.headers, JSON.stringify(call.headers));
  h.set(HDR.enqueuedAt, String(call.enqueuedAt));
  if (call.callbackUrl) h.set(HDR.callbackUrl, call.callbackUrl);
  if (call.replayOf !== undefined) h.set(HDR.replayOf, String(call.replayOf));
  return h;
}

function required(h: MsgHdrs, key: string): string {
  const value = h.get(key);
  if (!h.has(key)) throw new MalformedCallError(`message has no ${key} header`);
  return value;
}

export function readCall(h: MsgHdrs | undefined, body: Uint8Array): AsyncCall {
  if (!h) throw new MalformedCallError('message has no headers');
  let headers: HeaderPairs;
  try {
    headers = JSON.parse(required(h, HDR.headers)) as HeaderPairs;
  } catch (err) {
    if (err instanceof MalformedCallError) throw err;
    throw new MalformedCallError(`${HDR.headers} is not JSON`, { cause: err });
  }
  if (!Array.isArray(headers) || !headers.every((p) => Array.isArray(p) && p.length === 2 && p.every((s) => typeof s === 'string'))) {
    throw new MalformedCallError(`${HDR.headers} is not a list of [name, value] pairs`);
  }
  const enqueuedAt = Number(required(h, HDR.enqueuedAt));
  const replay = h.has(HDR.replayOf) ? Number(h.get(HDR.replayOf)) : undefined;
  return {
    callId: required(h, HDR.callId),
    name: required(h, HDR.name),
    namespace: required(h, HDR.namespace),
    method: required(h, HDR.method),
    path: h.get(HDR.path),
    query: h.get(HDR.query),
    headers,
    callbackUrl: h.get(HDR.callbackUrl) || undefined,
    enqueuedAt: Number.isFinite(enqueuedAt) ? enqueuedAt : 0,
    replayOf: replay !== undefined && Number.isInteger(replay) ? replay : undefined,
    body,
  };
}

/** Stores a call on the work stream; resolves with JetStream's ack (duplicate=true when deduped). */
export function publishCall(
  js: JetStreamClient,
  prefix: string,
  call: AsyncCall,
  timeoutMs = 5_000,
): Promise<PubAck> {
  const { body, ...meta } = call;
  return js.publish(invokeSubject(prefix, call.namespace, call.name), body, {
    msgID: callMsgId(call),
    headers: callHeaders(meta),
    timeout: timeoutMs,
  });
}
