// One undici keep-alive pool per replica, with a count of requests in flight to it, so a
// leaving replica can be drained before it is stopped. Pools of replicas no longer used
// are closed by a periodic sweep. The fast plane (fast-plane.ts) keeps its own idle
// connections to the replica here too, so the same sweep and close end them.
import { Pool } from 'undici';
import { lenientConnector } from './lenient-upstream.js';
import type { Endpoint } from './providers/provider.js';

export interface Upstream {
  url: string;
  pool: Pool;
  inFlight: number;
  used: boolean;
  /** The fast plane's kept-alive connections to this replica, waiting for a call. */
  idle: Array<{ destroy(): void }>;
}

export class Upstreams {
  private readonly byId = new Map<string, Upstream>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly timeoutMs: number,
    sweepEveryMs = 60_000,
  ) {
    this.sweeper = setInterval(() => this.sweep(), sweepEveryMs);
    this.sweeper.unref();
  }

  get(endpoint: Endpoint): Upstream {
    let upstream = this.byId.get(endpoint.id);
    // A restarted replica keeps its id but may get another port.
    if (upstream === undefined || upstream.url !== endpoint.url) {
      if (upstream) retire(upstream);
      upstream = {
        url: endpoint.url,
        pool: new Pool(endpoint.url, {
          connections: 256,
          pipelining: 1,
          keepAliveTimeout: 30_000,
          keepAliveMaxTimeout: 60_000,
          headersTimeout: this.timeoutMs,
          bodyTimeout: this.timeoutMs,
          connect: lenientConnector({ timeout: 5_000 }),
        }),
        inFlight: 0,
        used: true,
        idle: [],
      };
      this.byId.set(endpoint.id, upstream);
    }
    return upstream;
  }

  /** True when no proxied request is in flight to this replica. */
  isIdle = (endpointId: string): boolean => (this.byId.get(endpointId)?.inFlight ?? 0) === 0;

  private sweep(): void {
    for (const [id, upstream] of this.byId) {
      if (!upstream.used && upstream.inFlight === 0) {
        this.byId.delete(id);
        retire(upstream);
      }
      upstream.used = false;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    const all = [...this.byId.values()];
    this.byId.clear();
    for (const u of all) closeIdle(u);
    await Promise.all(all.map((u) => u.pool.destroy().catch(() => undefined)));
  }
}

/** Closes a replica's pool once its requests are done, and its idle fast-plane connections now. */
function retire(upstream: Upstream): void {
  void upstream.pool.close().catch(() => undefined);
  closeIdle(upstream);
}

function closeIdle(upstream: Upstream): void {
  for (const conn of upstream.idle.splice(0)) conn.destroy();
}
