// Runs one queued call to its end: attempts with backoff while the function answers a
// retryable status (or does not answer), then either the answer or a dead letter, then
// the callback (stored, delivered by the callback consumer), then the ack. The message
// is held the whole time; `working()` tells JetStream it is still being handled so it
// is not redelivered to another worker mid-call.
import type { JetStreamClient, JsMsg } from 'nats';
import type { Dispatcher } from 'undici';
import type { AsyncStreamSettings } from '../../shared/async-config.js';
import { publishDeadLetter, type AttemptRecord } from '../../shared/async-dead-letters.js';
import { readCall, type AsyncCall } from '../../shared/async-message.js';
import type { Logger } from '../../shared/logger.js';
import type { AnnotationCache } from './annotations.js';
import { enqueueCallback, postCallback, safeUrl, type CallResult, type CallbackSettings } from './callback.js';
import { invokeOnce, type Outcome } from './invoke.js';
import { parseRetryAfter, policyFor, retryDelayMs, type RetryPolicy } from './retry-policy.js';

export interface CallContext {
  /** The JetStream client of the current connection (throws while there is none). */
  js: () => JetStreamClient;
  streams: AsyncStreamSettings;
  dispatcher: Dispatcher;
  callbackDispatcher: Dispatcher;
  callback: CallbackSettings;
  /** Budget of the inline callback try; a slower receiver is retried from the stream. */
  inlineCallbackTimeoutMs: number;
  gatewayUrl: string;
  invokeTimeoutMs: number;
  ackWaitMs: number;
  defaults: RetryPolicy;
  annotations: AnnotationCache;
  log: Logger;
  /** Resolves when the worker starts stopping: waits for a retry end early. */
  stopping: Promise<void>;
  isStopping: () => boolean;
}

const isRetryable = (policy: RetryPolicy, o: Outcome) => o.kind === 'error' || policy.codes.includes(o.status);

function record(attempt: number, o: Outcome): AttemptRecord {
  const base = { attempt, at: new Date().toISOString(), durationMs: Math.round(o.durationMs) };
  return o.kind === 'response' ? { ...base, status: o.status } : { ...base, error: o.error };
}

/** Waits ms, or less if the worker starts stopping; true when the wait was cut short. */
async function waitOrStop(ctx: CallContext, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const slept = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const cut = await Promise.race([slept, ctx.stopping.then(() => true as const)]);
  clearTimeout(timer);
  return cut;
}

export async function processCall(msg: JsMsg, ctx: CallContext): Promise<void> {
  let call: AsyncCall;
  try {
    call = readCall(msg.headers, msg.data);
  } catch (err) {
    // No retry can fix a message that is not a call; it cannot be replayed either.
    ctx.log.error({ err, seq: msg.seq, subject: msg.subject }, 'dropping malformed call message');
    msg.term();
    return;
  }
  // A child logger only when something is logged: building one per call costs measurable CPU.
  let child: Logger | undefined;
  const logFor = () => (child ??= ctx.log.child({ callId: call.callId, fn: `${call.name}.${call.namespace}` }));
  const heartbeat = setInterval(() => msg.working(), Math.max(1_000, Math.floor(ctx.ackWaitMs / 3)));
  try {
    const { policy, problems } = policyFor(ctx.defaults, await ctx.annotations.get(call.name, call.namespace));
    if (problems.length) logFor().warn({ problems }, 'ignoring invalid retry annotations');
    const attempts: AttemptRecord[] = [];
    let last: Outcome;
    // Each earlier delivery (a worker that died, or stopped during a backoff) made at least
    // one attempt: count them, so a call that keeps killing workers still ends as a dead letter.
    const earlier = Math.max(0, msg.info.deliveryCount - 1);
    let attempt = earlier;
    for (;;) {
      attempt++;
      last = await invokeOnce(ctx.dispatcher, ctx.gatewayUrl, call, attempt, ctx.invokeTimeoutMs);
      attempts.push(record(attempt, last));
      if (!isRetryable(policy, last) || attempt >= policy.attempts) break;
      const delay = retryDelayMs(policy, attempt, last.kind === 'response' ? parseRetryAfter(last.retryAfter) : undefined);
      if (ctx.log.isLevelEnabled('debug')) logFor().debug({ attempt, outcome: attempts.at(-1), retryInMs: delay }, 'retrying call');
      if (ctx.isStopping() || (await waitOrStop(ctx, delay))) {
        // Hand the call back; another worker (or this one, restarted) picks it up later.
        msg.nak(delay);
        logFor().info({ attempt }, 'stopping: call handed back for a later retry');
        return;
      }
    }

    const failed = isRetryable(policy, last);
    let result: CallResult;
    if (failed) {
      const before = earlier ? ` (${earlier} in earlier deliveries, not listed)` : '';
      const reason =
        last.kind === 'response'
          ? `${attempt} attempt(s)${before} failed; last answer HTTP ${last.status}`
          : `${attempt} attempt(s)${before} failed; last error ${last.error}`;
      const ack = await publishDeadLetter(ctx.js(), ctx.streams, call, reason, attempts);
      logFor().warn({ reason, deadLetterId: ack.seq }, 'call moved to the dead-letter stream');
      result =
        last.kind === 'response'
          ? { status: last.status, headers: last.headers, body: last.body, durationMs: last.durationMs, attempts: attempt, error: reason, deadLetterId: ack.seq }
          : { status: 502, headers: [['content-type', 'text/plain; charset=utf-8']], body: Buffer.from(last.error), durationMs: last.durationMs, attempts: attempt, error: reason, deadLetterId: ack.seq };
    } else {
      const ok = last as Extract<Outcome, { kind: 'response' }>;
      result = { status: ok.status, headers: ok.headers, body: ok.body, durationMs: ok.durationMs, attempts: attempt };
    }
    if (call.callbackUrl) {
      const cbCall = { ...call, callbackUrl: call.callbackUrl };
      const first = await postCallback(ctx.callbackDispatcher, { call: cbCall, result, priorTries: 0 }, ctx.inlineCallbackTimeoutMs, ctx.callback.policy);
      if (!first.ok && first.retry && ctx.callback.attempts > 1) {
        await enqueueCallback(ctx.js(), ctx.streams, cbCall, result, 1);
        logFor().warn({ url: safeUrl(call.callbackUrl), problem: first.problem }, 'callback failed; stored for retries');
      } else if (!first.ok && first.problem.startsWith('callback refused')) {
        // Recorded as refused (GITFAAS_CALLBACK_DENY / _ALLOW, link-local): not a failure of the receiver.
        logFor().warn({ url: safeUrl(call.callbackUrl), problem: first.problem }, 'callback refused by the callback policy; not sent');
      } else if (!first.ok) {
        logFor().error({ url: safeUrl(call.callbackUrl), problem: first.problem }, 'giving up on callback');
      }
    }
    msg.ack();
  } catch (err) {
    // Could not store the dead letter or the callback (NATS trouble): leave the call in
    // the stream; it comes back after a pause and runs again (at least once).
    logFor().error({ err }, 'cannot finish call; it will be redelivered');
    msg.nak(5_000);
  } finally {
    clearInterval(heartbeat);
  }
}
