// Parts the wiring mounts on a gateway beside its own routes (the dashboard: services/
// gateway-with-dashboard.ts). A part needs objects that exist only once the gateway runs
// (its provider behind the domain claims, its invocation counts, owner tokens, the NATS
// link), so the wiring hands in a function the gateway calls with them. The gateway knows
// nothing of what it mounts: it routes the part's requests, tells its listener of every
// proxied call, and stops it.
import type { Hono } from 'hono';
import type { NatsLink } from '../../shared/async-nats.js';
import type { OwnerTokens } from '../../shared/owner-tokens.js';
import type { Invocations } from './invocations.js';
import type { Provider } from './providers/provider.js';
import type { CallObserver } from './proxy-call.js';

/** What a mounted part may use of the gateway. */
export interface GatewayHost {
  provider: Provider;
  invocations: Invocations;
  ownerTokens: OwnerTokens;
  asyncLink: NatsLink;
}

export interface MountedPart {
  /** Routed after the gateway's own routes. */
  routes: Hono<any>;
  /** Told of every call through the proxy, like the gateway's own observers. */
  callListener?: CallObserver;
  /** Called when the gateway stops, after it stopped taking requests. */
  stop(): Promise<void>;
}

export type GatewayMount = (host: GatewayHost) => MountedPart;
