// OpenFaaS's gateway metrics, so its Grafana dashboards work unchanged. The proxy tells this
// observer of each call (started, then answered); the hot path only bumps plain numbers in
// per-function records made on a function's first call. Prometheus text is produced at scrape
// time: counters and gauges through prom-client's collect(), the latency histogram as a small
// custom metric (prom-client's own histogram hashes its labels on every observe).
// Invocation totals stay with Invocations (gateway_function_invocation_total).
import { Gauge, type Registry } from 'prom-client';
import type { Provider } from './providers/provider.js';
import type { CallObserver } from './proxy-call.js';

/** Prometheus's default buckets (seconds), the ones OpenFaaS's gateway_functions_seconds uses. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** OpenFaaS's defaults for the com.openfaas.scale.* labels. */
const SCALE_DEFAULTS = { min: 1, target: 50, type: 'rps' } as const;

interface Latency {
  /** cumulative counts per bucket are computed at scrape time; here each call lands in one slot */
  readonly slots: Float64Array;
  count: number;
  sumSeconds: number;
}

interface FunctionCalls {
  started: number;
  inflight: number;
  readonly latency: Map<number, Latency>;
}

export class GatewayMetrics implements CallObserver {
  /** key "name.namespace" */
  private readonly calls = new Map<string, FunctionCalls>();

  started(fn: string): void {
    let calls = this.calls.get(fn);
    if (calls === undefined) {
      calls = { started: 0, inflight: 0, latency: new Map() };
      this.calls.set(fn, calls);
    }
    calls.started++;
    calls.inflight++;
  }

  called(fn: string, status: number, ms: number): void {
    const calls = this.calls.get(fn);
    if (calls === undefined) return; // not started through this proxy (never the case in the wiring)
    if (calls.inflight > 0) calls.inflight--;
    let latency = calls.latency.get(status);
    if (latency === undefined) {
      latency = { slots: new Float64Array(LATENCY_BUCKETS.length + 1), count: 0, sumSeconds: 0 };
      calls.latency.set(status, latency);
    }
    const seconds = ms / 1000;
    let slot = 0;
    while (slot < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[slot]) slot++;
    latency.slots[slot]++;
    latency.count++;
    latency.sumSeconds += seconds;
  }

  /** Registers the per-call metrics, and the per-function gauges read from the provider at scrape time. */
  register(registry: Registry, provider: Provider): void {
    const calls = this.calls;
    new Gauge({
      // A gauge in OpenFaaS too, though it only grows.
      name: 'gateway_function_invocation_started',
      help: 'Function calls started through the gateway',
      labelNames: ['function_name'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [fn, c] of calls) this.set({ function_name: fn }, c.started);
      },
    });
    new Gauge({
      name: 'gateway_function_invocation_inflight',
      help: 'Function calls started and not yet answered (response head not yet sent)',
      labelNames: ['function_name'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [fn, c] of calls) this.set({ function_name: fn }, c.inflight);
      },
    });
    registry.registerMetric(latencyHistogram(calls) as never);
    registerServiceGauges(registry, provider);
  }
}

/** gateway_functions_seconds as prom-client's registry reads a metric: name, help, type and get(). */
function latencyHistogram(calls: Map<string, FunctionCalls>) {
  const name = 'gateway_functions_seconds';
  const help = 'Time to the function\'s response head, by function and status code';
  return {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    reset() {},
    get() {
      const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = [];
      for (const [fn, c] of calls) {
        for (const [code, l] of c.latency) {
          const labels = { function_name: fn, code: String(code) };
          let cumulative = 0;
          for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
            cumulative += l.slots[i];
            values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: LATENCY_BUCKETS[i] }, value: cumulative });
          }
          values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: l.count });
          values.push({ metricName: `${name}_sum`, labels, value: l.sumSeconds });
          values.push({ metricName: `${name}_count`, labels, value: l.count });
        }
      }
      return { name, help, type: 'histogram', values, aggregator: 'sum' };
    },
  };
}

function scaleLabel(labels: Record<string, string> | undefined, key: string): string | undefined {
  return labels?.[`com.openfaas.scale.${key}`];
}

function numberOr(value: string | undefined, fallback: number): number {
  const n = value === undefined ? NaN : Number(value);
  return Number.isFinite(n) ? n : fallback;
}

/**
 * gateway_service_count (desired replicas), _ready_count, _min and _target_load, from the
 * provider's function list: one list per namespace per scrape, never on the call path.
 */
function registerServiceGauges(registry: Registry, provider: Provider): void {
  // Every gateway process reads the same backend: with several processes, one's figure is the figure.
  const gauge = (name: string, help: string, labelNames: string[]) =>
    new Gauge({ name, help, labelNames, registers: [registry], aggregator: 'first', collect: () => refresh() });
  const desired = gauge('gateway_service_count', 'Desired replicas of a function', ['function_name']);
  const ready = gauge('gateway_service_ready_count', 'Ready replicas of a function', ['function_name']);
  const min = gauge('gateway_service_min', 'Minimum replicas of a function (com.openfaas.scale.min, default 1)', ['function_name']);
  const target = gauge('gateway_service_target_load', 'Target load per replica (com.openfaas.scale.target, default 50), by scaling type', ['function_name', 'scaling_type']);
  // One collect fills all four, so a scrape lists the functions once; prom-client calls the
  // collect of each gauge, so the others read what the first one fetched for this scrape.
  let pending: Promise<void> | undefined;
  const refresh = (): Promise<void> =>
    (pending ??= (async () => {
      for (const g of [desired, ready, min, target]) g.reset();
      for (const namespace of await provider.namespaces()) {
        for (const f of await provider.list(namespace)) {
          const function_name = `${f.name}.${f.namespace}`;
          desired.set({ function_name }, f.replicas);
          ready.set({ function_name }, f.availableReplicas);
          min.set({ function_name }, numberOr(scaleLabel(f.labels, 'min'), SCALE_DEFAULTS.min));
          target.set({ function_name, scaling_type: scaleLabel(f.labels, 'type') ?? SCALE_DEFAULTS.type }, numberOr(scaleLabel(f.labels, 'target'), SCALE_DEFAULTS.target));
        }
      }
    })().finally(() => setImmediate(() => (pending = undefined))));
}
