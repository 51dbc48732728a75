// Wires the async side of the gateway: a NATS connection that (re)creates the streams
// whenever it (re)connects, the /async-function route and the /system/async routes.
// The gateway starts and serves synchronous calls even while NATS is down.
import type { HttpBindings } from '@hono/node-server';
import { Hono } from 'hono';
import { ConfigError } from '../../shared/config.js';
import { NatsLink } from '../../shared/async-nats.js';
import { ensureAsyncStreams } from '../../shared/async-streams.js';
import type { Logger } from '../../shared/logger.js';
import type { AsyncGatewaySettings } from './async-config.js';
import { asyncRoutes } from './async-routes.js';
import { asyncSystemRoutes } from './async-system-routes.js';
import type { Provider } from './providers/provider.js';

export interface GatewayAsync {
  routes: Hono<any>;
  link: NatsLink;
  stop(): Promise<void>;
}

export function startGatewayAsync(
  settings: AsyncGatewaySettings,
  provider: Provider,
  defaultNamespace: string,
  log: Logger,
): GatewayAsync {
  const s = settings.streams;
  if (s.stream === s.deadStream) throw new ConfigError('GITFAAS_ASYNC_DEAD_STREAM must differ from GITFAAS_ASYNC_STREAM');
  const a = s.subject;
  const d = s.deadSubject;
  if (a === d || d.startsWith(`${a}.`) || a.startsWith(`${d}.`)) {
    throw new ConfigError(`GITFAAS_ASYNC_DEAD_SUBJECT ("${d}") must not overlap GITFAAS_ASYNC_SUBJECT ("${a}")`);
  }
  const alog = log.child({ component: 'async' });
  const link = new NatsLink({
    servers: s.natsServers,
    name: 'gitfaas-gateway',
    log: alog,
    prepare: async (nc) => {
      await ensureAsyncStreams(await nc.jetstreamManager(), s);
      if (settings.maxBodyBytes > (nc.info?.max_payload ?? 0)) {
        alog.warn(
          { maxBodyBytes: settings.maxBodyBytes, maxPayload: nc.info?.max_payload },
          'GITFAAS_ASYNC_MAX_BODY_BYTES is above the NATS server max_payload: bodies that do not fit get 413',
        );
      }
    },
  }).start();
  const routes = new Hono<{ Bindings: HttpBindings }>();
  routes.route('/', asyncRoutes({ provider, link, settings, defaultNamespace, log: alog }));
  routes.route('/', asyncSystemRoutes({ link, streams: s }));
  return { routes, link, stop: () => link.close() };
}
