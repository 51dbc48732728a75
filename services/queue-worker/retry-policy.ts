// When and how long to wait before calling a function again. Defaults come from the
// worker's config; a function overrides them with OpenFaaS's annotations:
//   com.openfaas.retry.attempts  total attempts, e.g. "10"
//   com.openfaas.retry.codes     comma-separated statuses, e.g. "429,503"
//   com.openfaas.retry.min_wait  Go duration, e.g. "500ms", "5s"
//   com.openfaas.retry.max_wait  Go duration, e.g. "1m30s"
// A Retry-After header (seconds or HTTP date) replaces the computed backoff, capped at
// max_wait so one answer cannot park a message for hours.

export interface RetryPolicy {
  attempts: number;
  codes: readonly number[];
  minWaitMs: number;
  maxWaitMs: number;
}

export const ANNOTATION = {
  attempts: 'com.openfaas.retry.attempts',
  codes: 'com.openfaas.retry.codes',
  minWait: 'com.openfaas.retry.min_wait',
  maxWait: 'com.openfaas.retry.max_wait',
} as const;

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a Go duration ("1m30s", "250ms") or a bare number of seconds; undefined when invalid. */
export function parseDuration(value: string): number | undefined {
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(v)) return undefined;
  let total = 0;
  for (const m of v.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(m[1]) * UNIT_MS[m[2]];
  return Math.round(total);
}

/** The defaults overridden by whichever annotations are present and valid; problems are returned, not thrown. */
export function policyFor(
  defaults: RetryPolicy,
  annotations: Record<string, string> | undefined,
): { policy: RetryPolicy; problems: string[] } {
  const policy: RetryPolicy = { ...defaults };
  const problems: string[] = [];
  if (!annotations) return { policy, problems };
  const attempts = annotations[ANNOTATION.attempts];
  if (attempts !== undefined) {
    const n = Number(attempts);
    if (Number.isInteger(n) && n >= 1 && n <= 1000) policy.attempts = n;
    else problems.push(`${ANNOTATION.attempts}="${attempts}" is not a whole number from 1 to 1000`);
  }
  const codes = annotations[ANNOTATION.codes];
  if (codes !== undefined) {
    const list = codes.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
    if (list.every((c) => Number.isInteger(c) && c >= 100 && c <= 599)) policy.codes = list;
    else problems.push(`${ANNOTATION.codes}="${codes}" is not a comma-separated list of HTTP status codes`);
  }
  for (const [key, field] of [
    [ANNOTATION.minWait, 'minWaitMs'],
    [ANNOTATION.maxWait, 'maxWaitMs'],
  ] as const) {
    const raw = annotations[key];
    if (raw === undefined) continue;
    const ms = parseDuration(raw);
    if (ms !== undefined && ms >= 0) policy[field] = ms;
    else problems.push(`${key}="${raw}" is not a duration such as 500ms, 5s or 1m`);
  }
  if (policy.minWaitMs > policy.maxWaitMs) policy.maxWaitMs = policy.minWaitMs;
  return { policy, problems };
}

/** Retry-After in milliseconds from now, undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/**
 * Delay before attempt `failed + 1`: exponential from min_wait, doubled each time, capped
 * at max_wait, with "equal jitter" (half fixed, half random) so a burst of failures does
 * not retry in lock-step. Retry-After, when given, wins (capped at max_wait).
 */
export function retryDelayMs(
  policy: Pick<RetryPolicy, 'minWaitMs' | 'maxWaitMs'>,
  failed: number,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, policy.maxWaitMs);
  const base = Math.min(policy.maxWaitMs, policy.minWaitMs * 2 ** Math.max(0, failed - 1));
  return Math.round(base / 2 + random() * (base / 2));
}
