// The autoscaler's decision for one function at one tick, as a pure function of what it
// measured: Knative's two windows. The short (panic) window adds capacity as soon as a burst
// shows; the long (stable) window removes it only once a whole window has asked for fewer
// replicas, so the count never drops below what the last stable window needed.
import type { ScalePolicy } from '../providers/policy.js';

/** What one tick needed, remembered for the stable window. */
export interface Need {
  at: number;
  replicas: number;
}

export interface DecideInput {
  policy: ScalePolicy;
  /** The most replicas this function may have: GITFAAS_MAX_REPLICAS, or the owner's quota. */
  limit: number;
  /** Where the limit comes from, for the explanation ("the quota replicasPerFunction"). */
  limitName: string;
  /** Desired replicas as the provider has them now. */
  desired: number;
  ready: number;
  /** Average load (rps, in-flight calls or CPU millicores: policy.type) over the panic window. */
  panicLoad: number;
  /** This decider's needs of earlier ticks (oldest first); the new one is appended. */
  history: readonly Need[];
  /** When this decider started watching the function: no scale-down before a full stable window. */
  since: number;
  now: number;
  stableWindowMs: number;
}

export interface Decision {
  /** What the function should have; equal to input.desired when holding. */
  replicas: number;
  /** What the panic window's load alone needs, clamped. */
  need: number;
  /** The most any tick of the stable window needed, clamped. */
  stableNeed: number;
  reason: string;
  /** The history to pass to the next tick (pruned to the stable window). */
  history: Need[];
}

/** Replicas a load needs: ceil(load / (target × proportion)); 0 for no load. */
export function replicasFor(load: number, policy: ScalePolicy): number {
  if (!(load > 0)) return 0;
  return Math.ceil(load / (policy.target * policy.proportion) - 1e-9);
}

export function decide(input: DecideInput): Decision {
  const { policy, desired, now, stableWindowMs } = input;
  const floor = Math.max(policy.min, 1);
  const ceiling = Math.min(policy.max, input.limit);
  const clamp = (n: number) => Math.min(Math.max(n, floor), ceiling);
  const raw = replicasFor(input.panicLoad, policy);
  const need = clamp(raw);
  const history = [...input.history.filter((h) => h.at > now - stableWindowMs), { at: now, replicas: need }];
  const stableNeed = Math.max(...history.map((h) => h.replicas));
  const load = `load ${formatLoad(input.panicLoad, policy)} needs ${raw} (target ${policy.target} × ${policy.proportion})`;
  const capped = raw > ceiling ? `, capped at ${ceiling} (${policy.max <= input.limit ? 'com.openfaas.scale.max' : input.limitName})` : '';
  const floored = raw < floor ? `, kept at min ${floor}` : '';

  if (floor > ceiling) return { replicas: desired, need: desired, stableNeed: desired, history: [], reason: `com.openfaas.scale.min ${floor} is above ${input.limitName} (${input.limit}): holding ${desired}` };
  if (desired === 0) return { replicas: 0, need, stableNeed, history, reason: 'at zero desired replicas: left to the scale-to-zero waker' };
  if (input.ready === 0) return { replicas: desired, need, stableNeed, history, reason: `no ready replica yet (starting or waking): holding ${desired}` };
  if (need > desired) return { replicas: need, need, stableNeed, history, reason: `${load}${capped}: scaling up from ${desired} to ${need}` };
  if (desired > ceiling) return { replicas: ceiling, need, stableNeed, history, reason: `${desired} is above the limit ${ceiling}${capped || ` (${policy.max <= input.limit ? 'com.openfaas.scale.max' : input.limitName})`}: scaling down to it` };
  if (desired < floor) return { replicas: floor, need, stableNeed, history, reason: `${desired} is below min ${floor}: scaling up to it` };
  if (stableNeed < desired) {
    if (now - input.since < stableWindowMs) {
      return { replicas: desired, need, stableNeed, history, reason: `${load}${floored}; holding ${desired} until a full stable window (${stableWindowMs / 1000} s) has been watched` };
    }
    return { replicas: stableNeed, need, stableNeed, history, reason: `the last ${stableWindowMs / 1000} s needed at most ${stableNeed}: scaling down from ${desired} to ${stableNeed}` };
  }
  return { replicas: desired, need, stableNeed, history, reason: `${load}${capped}${floored}; holding ${desired}${stableNeed > need ? ` (the last ${stableWindowMs / 1000} s needed ${stableNeed})` : ''}` };
}

function formatLoad(load: number, policy: ScalePolicy): string {
  const n = Number.isInteger(load) ? String(load) : load.toFixed(1);
  if (policy.type === 'rps') return `${n} rps`;
  if (policy.type === 'capacity') return `${n} calls in flight`;
  return `${n} CPU millicores`;
}
