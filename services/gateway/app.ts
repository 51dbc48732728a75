// Builds the gateway's hono app from its parts. The provider is injected, so tests and other
// backends plug in here; extra route groups (e.g. /async-function) mount with one line.
import type { HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { AggregatorRegistry, Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from '../../shared/logger.js';
import type { OwnerTokens } from '../../shared/owner-tokens.js';
import { basicAuth } from '../../shared/basic-auth.js';
import { systemAuth } from './auth.js';
import { SoloPeers, type Peers } from './cluster/peers.js';
import { Invocations } from './invocations.js';
import { GatewayMetrics } from './metrics.js';
import { ProviderError, type Provider, type ProviderErrorCode } from './providers/provider.js';
import type { CallObserver } from './proxy-call.js';
import { createProxy, type ProxyHandler } from './proxy.js';
import type { Waker } from './zero/waker.js';
import { ownerRoutesOnly } from './owner-access.js';
import { ownerTokenRoutes } from './owner-token-routes.js';
import { readyRoutes } from './ready-routes.js';
import { secretRoutes } from './secret-routes.js';
import { systemRoutes } from './system-routes.js';
import { Upstreams } from './upstreams.js';

export const GATEWAY_VERSION = '0.1.0';
export const DEFAULT_SYSTEM_BODY_LIMIT_BYTES = 4 * 1024 * 1024;

export interface AppOptions {
  provider: Provider;
  config: {
    adminUser: string;
    adminPassword: string;
    defaultNamespace: string;
    functionTimeoutMs: number;
    maxReplicas: number;
    /** Default 4 MiB; see GITFAAS_SYSTEM_BODY_LIMIT_BYTES. */
    systemBodyLimitBytes?: number;
    /** OpenFaaS's per-call metrics (GITFAAS_METRICS); default on. */
    metrics?: boolean;
  };
  log: Logger;
  /** Shared with the provider so it can drain replicas; made here when not given. */
  upstreams?: Upstreams;
  invocations?: Invocations;
  /** More observers of every proxied call, after the invocation counts (e.g. the dashboard's call stats). */
  observers?: CallObserver[];
  /** The process's one metrics registry, served at /metrics; made here when not given. */
  registry?: Registry;
  /** The autoscaler's explanation of a function's replica count, shown by GET /system/function/<name>. */
  explainScaling?: (name: string, namespace: string) => Promise<object | undefined>;
  /** Owner API tokens (Redis); without them /system takes the admin's credentials only. */
  ownerTokens?: OwnerTokens;
  /** The other gateway processes of this host (cluster/), whose metrics /metrics adds up. */
  peers?: Peers;
  /** More route groups, mounted at the root before the 404 handler. */
  extraRoutes?: Hono<any>[];
  /** Holds calls to a function at zero while it wakes (zero/waker.ts); without it they get 503. */
  waker?: Waker;
}

export interface GatewayApp {
  app: Hono<{ Bindings: HttpBindings }>;
  /** The /function/* handler on node's raw request and response (the server's fast path). */
  proxy: ProxyHandler;
  upstreams: Upstreams;
  invocations: Invocations;
}

const STATUS: Record<ProviderErrorCode, 400 | 404 | 409 | 503 | 504> = {
  invalid: 400,
  image: 400,
  not_found: 404,
  conflict: 409,
  timeout: 504,
  unavailable: 503,
};

export function createApp(opts: AppOptions): GatewayApp {
  const { provider, config, log } = opts;
  const upstreams = opts.upstreams ?? new Upstreams(config.functionTimeoutMs);
  const invocations = opts.invocations ?? new Invocations();
  const metrics = opts.registry ?? new Registry();
  if (!opts.registry) collectDefaultMetrics({ register: metrics });
  invocations.register(metrics);
  const observers: CallObserver[] = [invocations, ...(opts.observers ?? [])];
  if (config.metrics !== false) {
    const gatewayMetrics = new GatewayMetrics();
    gatewayMetrics.register(metrics, provider);
    observers.push(gatewayMetrics);
  }
  const proxy = createProxy({ provider, upstreams, observers, defaultNamespace: config.defaultNamespace, timeoutMs: config.functionTimeoutMs, log, waker: opts.waker });

  const app = new Hono<{ Bindings: HttpBindings }>();
  const auth = basicAuth(config.adminUser, config.adminPassword);

  // Degraded is still 200: the proxy keeps serving from memory, so a probe must not take
  // this gateway out of rotation; the body says why /system/* cannot work meanwhile.
  app.get('/healthz', (c) => {
    const health = provider.health?.();
    return c.text(health && !health.ok ? `degraded: ${health.reason}\n` : 'OK\n');
  });
  // /system/* takes the admin's pair or an owner's token; owners reach only owner-access.ts's routes.
  app.use('/system/*', systemAuth({ adminUser: config.adminUser, adminPassword: config.adminPassword, ownerTokens: opts.ownerTokens }) as MiddlewareHandler);
  app.use('/system/*', ownerRoutesOnly() as MiddlewareHandler);
  // After auth, so an anonymous sender gets its 401 first; refuses by Content-Length before
  // reading, and stops a chunked body as soon as it passes the limit. /function/* is not
  // limited here: function bodies stream through the proxy.
  const limit = config.systemBodyLimitBytes ?? DEFAULT_SYSTEM_BODY_LIMIT_BYTES;
  app.use(
    '/system/*',
    bodyLimit({
      maxSize: limit,
      onError: (c) => c.text(`request body too large: /system/* accepts at most ${limit} bytes (GITFAAS_SYSTEM_BODY_LIMIT_BYTES)\n`, 413),
    }),
  );
  app.use('/metrics', auth);
  const peers = opts.peers ?? new SoloPeers();
  peers.answer('metrics', () => metrics.getMetricsAsJSON());
  // Several processes: every one's metrics, merged by each metric's aggregator (sum for
  // counts, first for what all processes read from the backend alike).
  const exposition = async (): Promise<string> =>
    peers.size === 1 ? metrics.metrics() : AggregatorRegistry.aggregate((await peers.gather('metrics')) as Awaited<ReturnType<Registry['getMetricsAsJSON']>>[]).metrics();
  app.get('/metrics', async (c) => c.text(await exposition(), 200, { 'Content-Type': metrics.contentType }));
  app.route('/', systemRoutes({ provider, invocations, defaultNamespace: config.defaultNamespace, maxReplicas: config.maxReplicas, version: GATEWAY_VERSION, explainScaling: opts.explainScaling }));
  app.route('/', secretRoutes({ provider, defaultNamespace: config.defaultNamespace }));
  app.route('/', readyRoutes({ provider, defaultNamespace: config.defaultNamespace }));
  if (opts.ownerTokens) app.route('/', ownerTokenRoutes(opts.ownerTokens));
  app.all('/function/*', (c) => {
    proxy(c.env.incoming, c.env.outgoing);
    return RESPONSE_ALREADY_SENT;
  });
  for (const routes of opts.extraRoutes ?? []) app.route('/', routes);

  app.notFound((c) => c.text(`no route for ${c.req.method} ${c.req.path}\n`, 404));
  app.onError((err, c) => {
    if (err instanceof HTTPException) return c.text(`${err.message}\n`, err.status);
    if (err instanceof ProviderError) return c.text(`${err.message}\n`, STATUS[err.code]);
    log.error({ err, method: c.req.method, path: c.req.path }, 'request failed');
    return c.text(`internal error: ${(err as Error).message}\n`, 500);
  });
  return { app, proxy, upstreams, invocations };
}
