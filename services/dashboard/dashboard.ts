// The dashboard, mounted on the gateway at /ui/ by the wiring (services/gateway-with-dashboard.ts):
// the page, sign-in, and the JSON and server-sent-event API the page reads. Every /ui/api
// route but sign-in needs a session. What it reads of the gateway comes through host.ts's ports.
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { Redis } from 'ioredis';
import type { AsyncStreamSettings } from '../../shared/async-config.js';
import type { NatsLink } from '../../shared/async-nats.js';
import type { Logger } from '../../shared/logger.js';
import type { OwnerTokens } from '../../shared/owner-tokens.js';
import { ProviderError } from '../../shared/provider-error.js';
import { createAllowlist } from '../../shared/allowlist.js';
import { asyncRoutes } from './async-routes.js';
import { CallStats } from './call-stats.js';
import { deployRoutes } from './deploy-routes.js';
import { authRoutes } from './auth-routes.js';
import { buildRoutes } from './build-routes.js';
import { sessionSecretFor, type DashboardSettings } from './config.js';
import { functionRoutes } from './function-routes.js';
import type { CallListener, FunctionsPort, InvocationCounts, SecretsPort } from './host.js';
import { secretRoutes } from './secret-routes.js';
import { oauthHosts, oauthRoutes } from './oauth-routes.js';
import { Sessions, type SessionEnv } from './session.js';
import { staticRoutes } from './static-assets.js';

export interface DashboardOptions {
  settings: DashboardSettings;
  /** The gateway's functions and secrets (its provider fits both ports, host.ts). */
  functions: FunctionsPort;
  secrets: SecretsPort;
  invocations: InvocationCounts;
  adminUser: string;
  adminPassword: string;
  defaultNamespace: string;
  maxReplicas: number;
  domain: string;
  /** Owner API tokens, made and revoked on the secrets page. */
  ownerTokens: OwnerTokens;
  /** The gateway's NATS connection and the async streams, for the async view. */
  asyncLink: NatsLink;
  asyncStreams: AsyncStreamSettings;
  log: Logger;
}

export interface Dashboard {
  routes: Hono<any>;
  /** For the host's proxy to tell of every answered call: the rate, errors and latency the pages show. */
  callListener: CallListener;
  stop(): Promise<void>;
}

const PUBLIC_API = new Set(['/ui/api/login', '/ui/api/login-options']);

const STATUS = { invalid: 400, image: 400, not_found: 404, conflict: 409, timeout: 504, unavailable: 503 } as const;

export function createDashboard(opts: DashboardOptions): Dashboard {
  const { settings, log } = opts;
  // This gateway process's call figures, told of every call by the proxy (callListener).
  const callStats = new CallStats();
  const sessions = new Sessions(sessionSecretFor(settings, opts.adminPassword), settings.sessionTtlMs, settings.publicUrl?.startsWith('https:') ?? false);
  let redis: Redis | undefined;
  const redisClient = () =>
    (redis ??= new Redis(settings.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 }).on('error', (err) => log.warn({ err }, 'dashboard redis error')));

  const app = new Hono<SessionEnv>();
  const requireSession = sessions.require();
  app.use('/ui/api/*', (c, next) => (PUBLIC_API.has(c.req.path) ? next() : requireSession(c, next)));
  app.route('/', staticRoutes());
  const providers = [...oauthHosts(settings).keys()];
  app.route('/', authRoutes({ sessions, adminUser: opts.adminUser, adminPassword: opts.adminPassword, providers: () => providers }));
  if (providers.length > 0) app.route('/', oauthRoutes({ settings, sessions, allowlist: createAllowlist(settings.customers, log), log }));
  app.route('/', functionRoutes({ ...opts, callStats }));
  app.route('/', deployRoutes({ functions: opts.functions, redis: redisClient, queuePrefix: settings.queuePrefix }));
  app.route('/', buildRoutes({ redis: redisClient, queuePrefix: settings.queuePrefix }));
  app.route('/', secretRoutes({ secrets: opts.secrets, ownerTokens: opts.ownerTokens }));
  app.route('/', asyncRoutes({ link: opts.asyncLink, streams: opts.asyncStreams }));
  app.all('/ui/api/*', (c) => c.json({ error: `no route for ${c.req.method} ${c.req.path}` }, 404));
  app.onError((err, c) => {
    if (err instanceof HTTPException) return c.json({ error: err.message }, err.status);
    if (err instanceof ProviderError) return c.json({ error: err.message }, STATUS[err.code]);
    log.error({ err, method: c.req.method, path: c.req.path }, 'dashboard request failed');
    return c.json({ error: `internal error: ${(err as Error).message}` }, 500);
  });
  return {
    routes: app,
    callListener: callStats,
    stop: async () => {
      redis?.disconnect();
    },
  };
}
