// Callbacks. When a call ends (answered, or dead-lettered) and the client gave
// X-Callback-Url, the worker stores a callback message on the work stream
// (PREFIX.callback.NS.NAME, body = the function's response body) before it acks the call.
// A second consumer delivers those: a slow or broken callback receiver never holds a call
// slot, and a worker killed mid-way loses no callback.
import { headers as natsHeaders, type JetStreamClient, type JsMsg } from 'nats';
import { request, type Dispatcher } from 'undici';
import type { AsyncStreamSettings } from '../../shared/async-config.js';
import { HDR, callbackSubject, callMsgId, type AsyncCall, type HeaderPairs } from '../../shared/async-message.js';
import type { Logger } from '../../shared/logger.js';
import { HOP_BY_HOP } from './invoke.js';
import { retryDelayMs } from './retry-policy.js';

const CB = {
  status: 'Gitfaas-Status',
  durationMs: 'Gitfaas-Duration-Ms',
  attempts: 'Gitfaas-Attempts',
  error: 'Gitfaas-Error',
  deadLetter: 'Gitfaas-Dead-Letter',
} as const;

export interface CallResult {
  status: number;
  headers: HeaderPairs;
  body: Uint8Array;
  durationMs: number;
  attempts: number;
  /** Why the call failed for good (set for dead letters). */
  error?: string;
  deadLetterId?: number;
}

interface CallbackMessage {
  call: Pick<AsyncCall, 'callId' | 'name' | 'namespace' | 'enqueuedAt'> & { callbackUrl: string };
  result: CallResult;
}

/** Stores the callback that is due; resolves once JetStream has it. */
export async function enqueueCallback(
  js: JetStreamClient,
  s: AsyncStreamSettings,
  call: AsyncCall & { callbackUrl: string },
  result: CallResult,
): Promise<void> {
  const h = natsHeaders();
  h.set(HDR.callId, call.callId);
  h.set(HDR.name, call.name);
  h.set(HDR.namespace, call.namespace);
  h.set(HDR.callbackUrl, call.callbackUrl);
  h.set(HDR.enqueuedAt, String(call.enqueuedAt));
  h.set(HDR.headers, JSON.stringify(result.headers));
  h.set(CB.status, String(result.status));
  h.set(CB.durationMs, result.durationMs.toFixed(3));
  h.set(CB.attempts, String(result.attempts));
  if (result.error) h.set(CB.error, result.error.replace(/[\r\n]+/g, ' ').slice(0, 1000));
  if (result.deadLetterId !== undefined) h.set(CB.deadLetter, String(result.deadLetterId));
  await js.publish(callbackSubject(s.subject, call.namespace, call.name), result.body, {
    msgID: `${callMsgId(call)}.callback`,
    headers: h,
  });
}

function readCallback(msg: JsMsg): CallbackMessage {
  const h = msg.headers;
  if (!h || !h.has(HDR.callbackUrl) || !h.has(CB.status)) throw new Error('callback message lacks its headers');
  const error = h.get(CB.error);
  const dead = h.get(CB.deadLetter);
  return {
    call: {
      callId: h.get(HDR.callId),
      name: h.get(HDR.name),
      namespace: h.get(HDR.namespace),
      enqueuedAt: Number(h.get(HDR.enqueuedAt)),
      callbackUrl: h.get(HDR.callbackUrl),
    },
    result: {
      status: Number(h.get(CB.status)),
      headers: JSON.parse(h.get(HDR.headers) || '[]') as HeaderPairs,
      body: msg.data,
      durationMs: Number(h.get(CB.durationMs)),
      attempts: Number(h.get(CB.attempts)),
      error: error || undefined,
      deadLetterId: dead ? Number(dead) : undefined,
    },
  };
}

const OURS = new Set([
  'x-call-id',
  'x-function-status',
  'x-function-name',
  'x-function-namespace',
  'x-duration-seconds',
  'x-async-attempts',
  'x-async-error',
  'x-dead-letter-id',
  'x-start-time',
]);

/** The callback request's headers: the function's response headers, then ours. */
export function callbackHeaders(cb: CallbackMessage): string[] {
  const out: string[] = [];
  for (const [name, value] of cb.result.headers) {
    const lower = name.toLowerCase();
    if (!HOP_BY_HOP.has(lower) && !OURS.has(lower)) out.push(name, value);
  }
  out.push(
    'X-Call-Id', cb.call.callId,
    'X-Function-Status', String(cb.result.status),
    'X-Function-Name', cb.call.name,
    'X-Function-Namespace', cb.call.namespace,
    'X-Duration-Seconds', (cb.result.durationMs / 1000).toFixed(3),
    'X-Async-Attempts', String(cb.result.attempts),
    'X-Start-Time', String(cb.call.enqueuedAt),
  );
  if (cb.result.error) out.push('X-Async-Error', cb.result.error);
  if (cb.result.deadLetterId !== undefined) out.push('X-Dead-Letter-Id', String(cb.result.deadLetterId));
  return out;
}

export interface CallbackSettings {
  attempts: number;
  timeoutMs: number;
  minWaitMs: number;
  maxWaitMs: number;
}

/**
 * Delivers one stored callback. 2xx acks; other 4xx (bar 408 and 429) are the receiver
 * refusing it and are not retried; anything else is retried with backoff by asking
 * JetStream to redeliver later (nak with delay), up to `attempts` deliveries.
 */
export async function deliverCallback(
  msg: JsMsg,
  dispatcher: Dispatcher,
  settings: CallbackSettings,
  log: Logger,
): Promise<void> {
  let cb: CallbackMessage;
  try {
    cb = readCallback(msg);
  } catch (err) {
    log.error({ err, seq: msg.seq }, 'dropping malformed callback message');
    msg.term();
    return;
  }
  const clog = log.child({ callId: cb.call.callId, fn: `${cb.call.name}.${cb.call.namespace}` });
  let problem: string;
  let retry = true;
  try {
    const res = await request(cb.call.callbackUrl, {
      method: 'POST',
      headers: callbackHeaders(cb),
      body: Buffer.from(cb.result.body.buffer, cb.result.body.byteOffset, cb.result.body.byteLength),
      dispatcher,
      headersTimeout: settings.timeoutMs,
      bodyTimeout: settings.timeoutMs,
    });
    await res.body.dump();
    if (res.statusCode >= 200 && res.statusCode < 300) {
      msg.ack();
      return;
    }
    problem = `callback answered ${res.statusCode}`;
    retry = res.statusCode >= 500 || res.statusCode === 408 || res.statusCode === 429;
  } catch (err) {
    const e = err as Error & { code?: string };
    problem = `callback failed: ${e.code ?? e.name}: ${e.message}`;
  }
  const delivery = msg.info.deliveryCount;
  if (!retry || delivery >= settings.attempts) {
    clog.error({ url: cb.call.callbackUrl, delivery, problem }, 'giving up on callback');
    msg.term();
    return;
  }
  const delay = retryDelayMs(settings, delivery);
  clog.warn({ url: cb.call.callbackUrl, delivery, problem, retryInMs: delay }, 'callback failed; will retry');
  msg.nak(delay);
}
