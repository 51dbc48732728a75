// Dead letters: calls whose every attempt failed. A dead letter is the original call
// message (same headers, same body bytes) plus the reason and every attempt's outcome,
// stored in the dead-letter stream under DEAD.NS.NAME. The worker writes them; the
// gateway's /system endpoints list them and replay them (republish to the work stream,
// then delete the dead letter).
import type { JetStreamClient, JetStreamManager, MsgHdrs, PubAck, StoredMsg } from 'nats';
import type { DirectStreamAPI } from 'nats/lib/jetstream/types.js';
import type { AsyncStreamSettings } from './async-config.js';
import { callHeaders, callMsgId, deadSubject, invokeSubject, readCall, type AsyncCall } from './async-message.js';

export const DEAD_HDR = {
  reason: 'Gitfaas-Dead-Reason',
  attempts: 'Gitfaas-Attempts',
  deadAt: 'Gitfaas-Dead-At',
} as const;

export interface AttemptRecord {
  attempt: number;
  /** HTTP status of the function's answer; absent when no answer came (connection error, timeout). */
  status?: number;
  error?: string;
  at: string;
  durationMs: number;
}

export interface DeadLetter {
  id: number;
  callId: string;
  function: string;
  namespace: string;
  method: string;
  path: string;
  query: string;
  callbackUrl?: string;
  enqueuedAt: string;
  deadAt: string;
  reason: string;
  attempts: AttemptRecord[];
  bodyBytes: number;
  replayOf?: number;
}

export async function publishDeadLetter(
  js: JetStreamClient,
  s: AsyncStreamSettings,
  call: AsyncCall,
  reason: string,
  attempts: AttemptRecord[],
): Promise<PubAck> {
  const { body, ...meta } = call;
  const h = callHeaders(meta);
  h.set(DEAD_HDR.reason, reason.replace(/[\r\n]+/g, ' ').slice(0, 1000));
  h.set(DEAD_HDR.attempts, JSON.stringify(attempts));
  h.set(DEAD_HDR.deadAt, new Date().toISOString());
  return await js.publish(deadSubject(s.deadSubject, call.namespace, call.name), body, {
    msgID: `${callMsgId(call)}.dead`,
    headers: h,
  });
}

function toDeadLetter(m: StoredMsg): DeadLetter {
  const call = readCall(m.header, m.data);
  const h: MsgHdrs = m.header;
  let attempts: AttemptRecord[] = [];
  try {
    attempts = JSON.parse(h.get(DEAD_HDR.attempts)) as AttemptRecord[];
  } catch {
    attempts = [];
  }
  return {
    id: m.seq,
    callId: call.callId,
    function: call.name,
    namespace: call.namespace,
    method: call.method,
    path: call.path,
    query: call.query,
    callbackUrl: call.callbackUrl,
    enqueuedAt: new Date(call.enqueuedAt).toISOString(),
    deadAt: h.get(DEAD_HDR.deadAt),
    reason: h.get(DEAD_HDR.reason),
    attempts,
    bodyBytes: m.data.length,
    replayOf: call.replayOf,
  };
}

const isNotFound = (err: unknown) => /no message found|not found|404/i.test((err as Error)?.message ?? '');

/** Dead letters in sequence order from `after` (exclusive), optionally of one namespace. */
export async function listDeadLetters(
  jsm: JetStreamManager,
  s: AsyncStreamSettings,
  opts: { namespace?: string; limit: number; after?: number },
): Promise<DeadLetter[]> {
  // The direct-get API exists on every JetStreamManager at run time; nats.js 2.x leaves it off the interface.
  const direct = (jsm as JetStreamManager & { direct: DirectStreamAPI }).direct;
  const filter = opts.namespace ? `${s.deadSubject}.${opts.namespace}.>` : `${s.deadSubject}.>`;
  const out: DeadLetter[] = [];
  let seq = (opts.after ?? 0) + 1;
  while (out.length < opts.limit) {
    let m: StoredMsg;
    try {
      m = await direct.getMessage(s.deadStream, { seq, next_by_subj: filter });
    } catch (err) {
      if (isNotFound(err)) break;
      throw err;
    }
    out.push(toDeadLetter(m));
    seq = m.seq + 1;
  }
  return out;
}

async function getDead(jsm: JetStreamManager, s: AsyncStreamSettings, id: number): Promise<StoredMsg | undefined> {
  try {
    return await jsm.streams.getMessage(s.deadStream, { seq: id });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/**
 * Puts a dead letter back on the work stream with the same call id (so the callback
 * carries the id the client knows) and deletes it once the work stream has stored it.
 * Undefined when there is no such dead letter (or it is not in `namespace`).
 */
export async function replayDeadLetter(
  js: JetStreamClient,
  jsm: JetStreamManager,
  s: AsyncStreamSettings,
  id: number,
  namespace?: string,
): Promise<{ callId: string } | undefined> {
  const m = await getDead(jsm, s, id);
  if (!m) return undefined;
  const call = readCall(m.header, m.data);
  if (namespace && call.namespace !== namespace) return undefined;
  const replay: AsyncCall = { ...call, replayOf: m.seq };
  const { body, ...meta } = replay;
  await js.publish(invokeSubject(s.subject, call.namespace, call.name), body, {
    msgID: callMsgId(replay),
    headers: callHeaders(meta),
  });
  await deleteDeadLetter(jsm, s, m.seq);
  return { callId: call.callId };
}

export async function deleteDeadLetter(jsm: JetStreamManager, s: AsyncStreamSettings, id: number): Promise<boolean> {
  try {
    return await jsm.streams.deleteMessage(s.deadStream, id, false);
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** Replays every dead letter (of one namespace if given); returns the call ids replayed. */
export async function replayAllDeadLetters(
  js: JetStreamClient,
  jsm: JetStreamManager,
  s: AsyncStreamSettings,
  namespace?: string,
): Promise<string[]> {
  const replayed: string[] = [];
  let after = 0;
  for (;;) {
    const page = await listDeadLetters(jsm, s, { namespace, limit: 200, after });
    if (page.length === 0) return replayed;
    for (const d of page) {
      const r = await replayDeadLetter(js, jsm, s, d.id, namespace);
      if (r) replayed.push(r.callId);
      after = d.id;
    }
  }
}
