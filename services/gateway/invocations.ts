// Invocation counts per function and status code, kept as plain numbers on the hot path and
// read by /system/functions (invocationCount) and by Prometheus at scrape time. The proxy
// tells it of each call as one of its observers.
import { Counter, Registry } from 'prom-client';
import type { CallObserver } from './proxy-call.js';

export class Invocations implements CallObserver {
  /** key "name.namespace" -> status code -> count */
  private readonly counts = new Map<string, Map<number, number>>();

  called(fn: string, code: number): void {
    this.count(fn, code);
  }

  count(fn: string, code: number): void {
    let byCode = this.counts.get(fn);
    if (byCode === undefined) {
      byCode = new Map();
      this.counts.set(fn, byCode);
    }
    byCode.set(code, (byCode.get(code) ?? 0) + 1);
  }

  /** Drops a removed function's counts, so one re-created under its name starts from zero. */
  forget(name: string, namespace: string): void {
    this.counts.delete(`${name}.${namespace}`);
  }

  total(name: string, namespace: string): number {
    let n = 0;
    for (const v of this.counts.get(`${name}.${namespace}`)?.values() ?? []) n += v;
    return n;
  }

  /** Registers gateway_function_invocation_total (OpenFaaS's metric name) on a registry. */
  register(registry: Registry): void {
    const counts = this.counts;
    new Counter({
      name: 'gateway_function_invocation_total',
      help: 'Function invocations through the gateway, by function and status code',
      labelNames: ['function_name', 'code'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [fn, byCode] of counts) for (const [code, n] of byCode) this.inc({ function_name: fn, code: String(code) }, n);
      },
    });
  }
}
