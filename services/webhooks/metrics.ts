// The receiver's metrics: webhook deliveries by git host and answer, counted by a middleware
// around /webhooks/* (the routes stay as they are):
//   gitfaas_webhooks_deliveries_total{host,code}  202 queued, 200 ignored (not a push to
//                                                 build), 401 bad signature, 503 Redis down ...
import type { MiddlewareHandler } from 'hono';
import { Counter, type Registry } from 'prom-client';

export const WEBHOOKS_METRICS_PREFIX = 'gitfaas_webhooks';

/** Only the hosts the receiver has routes for: a made-up path makes no new label. */
const HOSTS = new Set(['github', 'gitlab']);

export function countDeliveries(registry: Registry): MiddlewareHandler {
  const deliveries = new Counter({
    name: `${WEBHOOKS_METRICS_PREFIX}_deliveries_total`,
    help: 'Webhook deliveries by git host and HTTP status of the answer',
    labelNames: ['host', 'code'],
    registers: [registry],
  });
  return async (c, next) => {
    await next();
    const host = c.req.path.split('/')[2];
    if (HOSTS.has(host)) deliveries.inc({ host, code: String(c.res.status) });
  };
}
