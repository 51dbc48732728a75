// Callbacks. When a call ends (answered, or dead-lettered) and the client gave
// X-Callback-Url, the worker tries the callback once, briefly, before it acks the call.
// If that try fails in a way worth retrying, it stores a callback message on the work
// stream (PREFIX.callback.NS.NAME, body = the function's response body), still before the
// ack, and a second consumer retries it with backoff: a slow or broken receiver holds a
// call slot for one short try at most, and a worker killed mid-way loses no callback
// (the unacked call runs again).
import { headers as natsHeaders, type JetStreamClient, type JsMsg } from 'nats';
import { request, type Dispatcher } from 'undici';
import type { AsyncStreamSettings } from '../../shared/async-config.js';
import { HDR, callbackSubject, callMsgId, type AsyncCall, type HeaderPairs } from '../../shared/async-message.js';
import { CallbackRefused, refusedCallbackUrl, type CallbackPolicy } from '../../shared/callback-policy.js';
import type { Logger } from '../../shared/logger.js';
import { HOP_BY_HOP } from './invoke.js';
import { retryDelayMs } from './retry-policy.js';

const CB = {
  status: 'Gitfaas-Status',
  durationMs: 'Gitfaas-Duration-Ms',
  attempts: 'Gitfaas-Attempts',
  error: 'Gitfaas-Error',
  deadLetter: 'Gitfaas-Dead-Letter',
  priorTries: 'Gitfaas-Callback-Tries',
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

export interface CallbackMessage {
  call: Pick<AsyncCall, 'callId' | 'name' | 'namespace' | 'enqueuedAt'> & { callbackUrl: string };
  result: CallResult;
  /** Tries made before the callback was stored (the worker's inline try). */
  priorTries: number;
}

/** Stores the callback that is due; resolves once JetStream has it. */
export async function enqueueCallback(
  js: JetStreamClient,
  s: AsyncStreamSettings,
  call: AsyncCall & { callbackUrl: string },
  result: CallResult,
  priorTries: number,
): Promise<void> {
  const h = natsHeaders();
  h.set(CB.priorTries, String(priorTries));
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
    priorTries: Number(h.get(CB.priorTries)) || 0,
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
  policy?: CallbackPolicy;
}

export type CallbackOutcome = { ok: true } | { ok: false; retry: boolean; problem: string };

/** The callback URL without query or credentials, for logs (a query may carry a token). */
export const safeUrl = (url: string) => {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
};

/**
 * One POST of a callback. 2xx is done; other 4xx (bar 408 and 429) are the receiver
 * refusing it and are not worth retrying; anything else (5xx, no answer) is.
 */
export async function postCallback(dispatcher: Dispatcher, cb: CallbackMessage, timeoutMs: number, policy?: CallbackPolicy): Promise<CallbackOutcome> {
  // A refused target is never retried: the URL (here) and its addresses (the dispatcher's
  // connector, services/queue-worker/callback-connector.ts) are the same on every try.
  const refused = policy && refusedCallbackUrl(policy, cb.call.callbackUrl);
  if (refused) return { ok: false, retry: false, problem: `callback refused: ${refused}` };
  try {
    const res = await request(cb.call.callbackUrl, {
      method: 'POST',
      headers: callbackHeaders(cb),
      body: Buffer.from(cb.result.body.buffer, cb.result.body.byteOffset, cb.result.body.byteLength),
      dispatcher,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    await res.body.dump();
    if (res.statusCode >= 200 && res.statusCode < 300) return { ok: true };
    return {
      ok: false,
      retry: res.statusCode >= 500 || res.statusCode === 408 || res.statusCode === 429,
      problem: `callback answered ${res.statusCode}`,
    };
  } catch (err) {
    const e = err as Error & { code?: string };
    if (e instanceof CallbackRefused || e.code === 'CALLBACK_REFUSED') return { ok: false, retry: false, problem: e.message };
    return { ok: false, retry: true, problem: `callback failed: ${e.code ?? e.name}: ${e.message}` };
  }
}

/**
 * Delivers one stored callback; retries by asking JetStream to redeliver later (nak with
 * delay) until `attempts` tries in all (the worker's first, inline try counts).
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
  const outcome = await postCallback(dispatcher, cb, settings.timeoutMs, settings.policy);
  if (outcome.ok) {
    msg.ack();
    return;
  }
  const tries = cb.priorTries + msg.info.deliveryCount;
  const clog = log.child({ callId: cb.call.callId, fn: `${cb.call.name}.${cb.call.namespace}` });
  if (!outcome.retry || tries >= settings.attempts) {
    clog.error({ url: safeUrl(cb.call.callbackUrl), tries, problem: outcome.problem }, 'giving up on callback');
    msg.term();
    return;
  }
  const delay = retryDelayMs(settings, tries);
  clog.warn({ url: safeUrl(cb.call.callbackUrl), tries, problem: outcome.problem, retryInMs: delay }, 'callback failed; will retry');
  msg.nak(delay);
}
