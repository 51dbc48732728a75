// Starts the gateway: the Docker provider (unless one is given) behind the custom-domain
// claims, the hono app with the parts the wiring mounts (mounts.ts: the dashboard), and an
// HTTP server on 127.0.0.1 whose owner-subdomain, custom-domain and /function/* requests
// skip straight to the proxy.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import { Redis } from 'ioredis';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Logger } from '../../shared/logger.js';
import { OwnerTokens } from '../../shared/owner-tokens.js';
import type { RunningService } from '../../shared/run-service.js';
import { createApp } from './app.js';
import { startAutoscaling } from './autoscale/start.js';
import { processPeers, type Peers } from './cluster/peers.js';
import { startGatewayAsync } from './async-service.js';
import type { GatewayConfig } from './config.js';
import { ClaimingProvider, DomainClaims } from './domains.js';
import { hostRoutes } from './host-routes.js';
import { Invocations } from './invocations.js';
import type { GatewayMount } from './mounts.js';
import { startBackend } from './providers/backends.js';
import type { Provider } from './providers/provider.js';
import { attachFastPlane, type FastPlane } from './fast-plane.js';
import { FUNCTION_PREFIX, functionTarget } from './proxy.js';
import { Upstreams } from './upstreams.js';
import { startScaleToZero } from './zero/wire.js';

export interface GatewayDeps {
  provider?: Provider;
  extraRoutes?: Hono<any>[];
  /** Parts the wiring mounts on this gateway (the dashboard: services/gateway-with-dashboard.ts). */
  mounts?: GatewayMount[];
  /** The process's metrics registry (services/main.ts shares one); made here when not given. */
  registry?: Registry;
  /** The other gateway processes (cluster/); this process alone unless it runs as a cluster worker. */
  peers?: Peers;
}

export interface RunningGateway extends RunningService {
  url: string;
  provider: Provider;
  server: Server;
  /** Wakes started by this gateway (scale to zero and back, zero/). */
  wakeCount(): number;
}

export async function startGateway(config: GatewayConfig, log: Logger, deps: GatewayDeps = {}): Promise<RunningGateway> {
  const upstreams = new Upstreams(config.functionTimeoutMs);
  const backend =
    deps.provider ??
    (await startBackend(config.provider, {
      log: log.child({ component: config.provider.name }),
      instance: config.instance,
      stateDir: config.stateDir,
      startTimeoutMs: config.startTimeoutMs,
      maxReplicas: config.maxReplicas,
      drainTimeoutMs: config.functionTimeoutMs,
      isIdle: upstreams.isIdle,
    }));
  // Custom domains: from the functions' annotations as the feed shows them (every gateway's writes).
  const claims = new DomainClaims(config.domain, log.child({ component: 'domains' }));
  const stopClaims = claims.follow(backend);
  const provider = new ClaimingProvider(backend, claims);
  const asyncSide = startGatewayAsync(config.async, provider, config.defaultNamespace, log);
  const peers = deps.peers ?? processPeers();
  const invocations = new Invocations(peers);
  // Owner API tokens live in the installation's Redis (connected on first use).
  let redis: Redis | undefined;
  const ownerTokens = new OwnerTokens(
    () => (redis ??= new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 }).on('error', (err) => log.warn({ err }, 'owner tokens: redis error'))),
    config.queuePrefix,
  );
  const mounted = (deps.mounts ?? []).map((mount) => mount({ provider, invocations, ownerTokens, asyncLink: asyncSide.link }));
  const registry = deps.registry ?? new Registry();
  if (!deps.registry) collectDefaultMetrics({ register: registry });
  const zero = startScaleToZero(config.zero, provider, config.functionTimeoutMs, config.instance, log.child({ component: 'zero' }));
  const autoscaling = startAutoscaling({ settings: config.autoscale, provider, instance: config.instance, maxReplicas: config.maxReplicas, log: log.child({ component: 'autoscaler' }) });
  const observers = [...mounted.flatMap((part) => part.callListener ?? []), zero.activity, ...(autoscaling.observer ? [autoscaling.observer] : [])];
  const { app, proxy } = createApp({ provider, config, log, upstreams, invocations, registry, ownerTokens, peers, observers, waker: zero.waker, explainScaling: autoscaling.explain, extraRoutes: [...(deps.extraRoutes ?? []), asyncSide.routes, ...mounted.map((part) => part.routes)] });
  const listener = getRequestListener(app.fetch);
  const byHost = hostRoutes({ domain: config.domain, bareLabels: config.bareLabels, trustProxy: config.trustProxy, claims, provider, proxy, log });
  const server = createServer((req, res) => {
    if (byHost(req, res)) return;
    if (req.url !== undefined && req.url.startsWith(FUNCTION_PREFIX)) proxy(req, res);
    else void listener(req, res);
  });
  server.keepAliveTimeout = 65_000;
  const fast: FastPlane | undefined = config.fastPlane
    ? attachFastPlane(server, {
        ctx: { provider, upstreams, observers: proxy.observers, timeoutSeconds: config.functionTimeoutMs / 1000, log },
        route: (host, forwardedHost, url) => {
          const byHostRoute = byHost.resolve(host, forwardedHost, url);
          if (byHostRoute !== undefined) return byHostRoute === 'other' ? undefined : byHostRoute;
          return url.startsWith(FUNCTION_PREFIX) ? functionTarget(url, config.defaultNamespace) : undefined;
        },
        next: proxy.next,
        idleTimeoutMs: server.keepAliveTimeout,
      })
    : undefined;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.bind, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((err) => {
    void autoscaling.stop();
    void provider.close();
    void asyncSide.stop();
    void zero.stop();
    for (const part of mounted) void part.stop();
    throw new Error(`cannot listen on ${config.bind}:${config.port} (${(err as Error).message}): set GITFAAS_GATEWAY_PORT or GITFAAS_BIND`, { cause: err });
  });
  // After listening, a server still emits 'error' (e.g. EMFILE on accept): logged, never fatal.
  server.on('error', (err) => log.error({ err }, 'gateway server error'));
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.bind}:${port}`;
  // Known only now (port 0 picks one): callbacks to this gateway's /system are refused.
  config.async.callbackPolicy.gateway = { host: config.bind, port };
  log.info({ url }, 'gateway listening');

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      fast?.stopping();
      server.closeIdleConnections();
      fast?.closeIdle();
      // Followed log streams never end on their own; give in-flight calls a moment, then cut.
      const cut = setTimeout(() => {
        server.closeAllConnections();
        fast?.closeAll();
      }, 5_000);
      await closed;
      clearTimeout(cut);
      await autoscaling.stop();
      await zero.stop();
      proxy.close();
      stopClaims();
      await upstreams.close();
      await asyncSide.stop();
      for (const part of mounted) await part.stop();
      redis?.disconnect();
      if (!deps.provider) await provider.close();
    })());
  return { url, provider, server, stop, wakeCount: () => zero.waker.wakeCount };
}
