// The proxy's two data planes behind one http server each, for unit tests that must hold for
// both: 'node' (proxy.ts on node's http server) and 'fast' (fast-plane.ts in front of it, as
// service.ts runs it by default). Routes are by path only (/function/NAME[.NAMESPACE]).
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { attachFastPlane } from '../../services/gateway/fast-plane.js';
import { createProxy, FUNCTION_PREFIX, functionTarget, type ProxyOptions } from '../../services/gateway/proxy.js';

export type PlaneName = 'node' | 'fast';
export const PLANES: readonly PlaneName[] = ['node', 'fast'];

export interface ProxyServer {
  server: http.Server;
  port: number;
  base: string;
  /** Calls the fast plane proxied and connections it handed to node (zero on the node plane). */
  counts: { calls: number; handedOff: number };
  close(): void;
}

export async function listenProxy(plane: PlaneName, opts: ProxyOptions): Promise<ProxyServer> {
  const proxy = createProxy(opts);
  const server = http.createServer(proxy);
  let counts = { calls: 0, handedOff: 0 };
  if (plane === 'fast') {
    counts = attachFastPlane(server, {
      ctx: { provider: opts.provider, upstreams: opts.upstreams, observers: proxy.observers, timeoutSeconds: opts.timeoutMs / 1000, log: opts.log },
      route: (_host, _forwardedHost, url) => (url.startsWith(FUNCTION_PREFIX) ? functionTarget(url, opts.defaultNamespace) : undefined),
      next: proxy.next,
      idleTimeoutMs: 5000,
    }).counts;
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, port, base: `http://127.0.0.1:${port}`, counts, close: () => (server.closeAllConnections(), server.close()) };
}

/**
 * For a fast plane's tests: each test but those named in `handsOff` must have its calls proxied
 * by the fast plane itself, none handed to node (a connection handed off stays with node, so
 * tests that hand off use connections of their own). Call as beforeEach / afterEach.
 */
export function fastPlaneCheck(gateway: () => ProxyServer, handsOff: ReadonlySet<string>): { beforeEach(): void; afterEach(t: { name: string }): void } {
  let calls = 0;
  let handedOff = 0;
  return {
    beforeEach: () => ({ calls, handedOff } = gateway().counts),
    afterEach: (t) => {
      if (handsOff.has(t.name)) return;
      const now = gateway().counts;
      assert.ok(now.calls > calls, `${t.name}: the fast plane proxied no call (calls ${calls} -> ${now.calls}, connections handed off ${handedOff} -> ${now.handedOff})`);
      assert.equal(now.handedOff, handedOff, `${t.name}: a connection was handed to node`);
    },
  };
}
