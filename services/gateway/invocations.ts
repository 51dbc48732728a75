// Invocation counts per function and status code, kept as plain numbers on the hot path and
// read by /system/functions (invocationCount) and by Prometheus at scrape time. The proxy
// tells it of each call as one of its observers. With several gateway processes
// (cluster/), refresh() sums every process's counts before an answer reads total().
import { Counter, Registry } from 'prom-client';
import { SoloPeers, type Peers } from './cluster/peers.js';
import type { CallObserver } from './proxy-call.js';

type CountsSnapshot = [string, [number, number][]][];

export class Invocations implements CallObserver {
  /** key "name.namespace" -> status code -> count: this process's calls */
  private readonly counts = new Map<string, Map<number, number>>();
  /** Totals over every gateway process, from the last refresh (only with several processes). */
  private summed?: Map<string, number>;

  constructor(private readonly peers: Peers = new SoloPeers()) {
    peers.answer('invocations', (): CountsSnapshot => [...this.counts].map(([fn, byCode]) => [fn, [...byCode]]));
    peers.listen('invocations:forget', (fn) => this.counts.delete(fn as string));
  }

  /** Sums the counts of every gateway process into what total() answers next; no-op alone. */
  async refresh(): Promise<void> {
    if (this.peers.size === 1) return;
    const summed = new Map<string, number>();
    for (const snapshot of (await this.peers.gather('invocations')) as CountsSnapshot[]) {
      for (const [fn, byCode] of snapshot) for (const [, n] of byCode) summed.set(fn, (summed.get(fn) ?? 0) + n);
    }
    this.summed = summed;
  }

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
    const fn = `${name}.${namespace}`;
    this.counts.delete(fn);
    this.summed?.delete(fn);
    if (this.peers.size > 1) this.peers.tell('invocations:forget', fn);
  }

  total(name: string, namespace: string): number {
    if (this.summed !== undefined) return this.summed.get(`${name}.${namespace}`) ?? 0;
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
