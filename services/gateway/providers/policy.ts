// Scaling policy that is no backend's business: OpenFaaS's com.openfaas.scale.* labels,
// parsed once, with OpenFaaS's defaults. Backends read `min` for a new function's replicas;
// the autoscaler, the idler and the metrics read the rest. A malformed label is a
// ProviderError('invalid') naming the label, so a deploy carrying it answers 400.
import { ProviderError } from './provider.js';

export type ScaleType = 'rps' | 'capacity' | 'cpu';

export interface ScalePolicy {
  /** com.openfaas.scale.min (default 1). */
  min: number;
  /** com.openfaas.scale.max (default 20), never below min. */
  max: number;
  /** com.openfaas.scale.target: load per replica (default 50). */
  target: number;
  /** com.openfaas.scale.target-proportion (default 0.9), in (0, 1]. */
  proportion: number;
  /** com.openfaas.scale.type (default rps). */
  type: ScaleType;
  /** com.openfaas.scale.zero (default false). */
  zero: boolean;
  /** com.openfaas.scale.zero-duration (default 15m), in milliseconds. */
  zeroDurationMs: number;
}

export const SCALE_DEFAULTS: ScalePolicy = {
  min: 1,
  max: 20,
  target: 50,
  proportion: 0.9,
  type: 'rps',
  zero: false,
  zeroDurationMs: 15 * 60_000,
};

const PREFIX = 'com.openfaas.scale.';
const TYPES: readonly ScaleType[] = ['rps', 'capacity', 'cpu'];

/**
 * The function's scaling policy from its labels. `replicaLimit` (the gateway's
 * GITFAAS_MAX_REPLICAS or an owner's quota) caps min and max: a min above it is invalid,
 * a max above it is clamped to it.
 */
export function parseScaleLabels(labels: Readonly<Record<string, string>> | undefined, replicaLimit = Infinity): ScalePolicy {
  const get = (key: string): string | undefined => labels?.[PREFIX + key];
  const whole = (key: string, fallback: number, lowest: number): number => {
    const raw = get(key);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isInteger(n) || n < lowest) throw invalid(key, raw, `a whole number from ${lowest}`);
    return n;
  };
  const min = whole('min', SCALE_DEFAULTS.min, 0);
  if (min > replicaLimit) throw invalid('min', String(min), `at most ${replicaLimit} (the replica limit)`);
  const max = Math.min(whole('max', Math.max(SCALE_DEFAULTS.max, min), 1), replicaLimit);
  if (max < min) throw invalid('max', get('max')!, `at least com.openfaas.scale.min (${min})`);

  const targetRaw = get('target');
  const target = targetRaw === undefined ? SCALE_DEFAULTS.target : Number(targetRaw);
  if (targetRaw !== undefined && (targetRaw.trim() === '' || !Number.isFinite(target) || target <= 0)) throw invalid('target', targetRaw, 'a number above 0');

  const proportionRaw = get('target-proportion');
  const proportion = proportionRaw === undefined ? SCALE_DEFAULTS.proportion : Number(proportionRaw);
  if (proportionRaw !== undefined && (proportionRaw.trim() === '' || !(proportion > 0 && proportion <= 1))) {
    throw invalid('target-proportion', proportionRaw, 'a number above 0 and at most 1');
  }

  const typeRaw = get('type');
  const type = (typeRaw ?? SCALE_DEFAULTS.type) as ScaleType;
  if (!TYPES.includes(type)) throw invalid('type', typeRaw!, `one of ${TYPES.join(', ')}`);

  const zeroRaw = get('zero');
  if (zeroRaw !== undefined && zeroRaw !== 'true' && zeroRaw !== 'false') throw invalid('zero', zeroRaw, 'true or false');
  const zero = zeroRaw === 'true';

  const durationRaw = get('zero-duration');
  const zeroDurationMs = durationRaw === undefined ? SCALE_DEFAULTS.zeroDurationMs : parseDuration(durationRaw);
  if (Number.isNaN(zeroDurationMs) || zeroDurationMs <= 0) throw invalid('zero-duration', durationRaw!, 'a duration such as 30s, 15m or 1h');

  return { min, max, target, proportion, type, zero, zeroDurationMs };
}

/** Go-style durations as OpenFaaS labels write them: "1h30m", "15m", "30s", "500ms"; NaN when malformed. */
export function parseDuration(text: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let at = 0;
  if (text.length === 0) return NaN;
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (m === null) return NaN;
    total += Number(m[1]) * unit[m[2]];
    at = re.lastIndex;
  }
  return total;
}

function invalid(key: string, value: string, expected: string): ProviderError {
  return new ProviderError('invalid', `label ${PREFIX}${key} "${value}" must be ${expected}`);
}
