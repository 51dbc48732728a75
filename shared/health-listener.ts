// A small HTTP listener for services that have no HTTP server of their own (builder,
// deployer, queue-worker when run alone): GET /healthz for probes and GET /metrics for
// Prometheus. It is started only when the service's *_HEALTH_PORT variable is set, and
// binds GITFAAS_BIND (127.0.0.1 unless told otherwise, e.g. 0.0.0.0 in a pod).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import type { Logger } from './logger.js';

/** A port variable that may be left unset (no listener then); 0 picks a free port. */
export const optionalPortVar = z.coerce
  .number({ message: 'expected a port number' })
  .int('expected a whole port number')
  .min(0, 'expected a port from 0 to 65535')
  .max(65535, 'expected a port from 0 to 65535')
  .optional();

export interface HealthSettings {
  bind: string;
  /** Unset: no listener. */
  port?: number;
}

export interface HealthListenerOptions {
  settings: HealthSettings;
  /** The variable that set the port, named in a start-up error. */
  portVariable: string;
  registry: Registry;
  log: Logger;
  /** False while the service cannot do its work (e.g. its queue connection is down): 503. */
  healthy?: () => boolean;
}

export interface HealthListener {
  url: string;
  stop(): Promise<void>;
}

export async function startHealthListener(opts: HealthListenerOptions): Promise<HealthListener | undefined> {
  const { settings, registry, log } = opts;
  if (settings.port === undefined) return undefined;
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'Content-Type': 'text/plain; charset=utf-8', Allow: 'GET, HEAD' }).end('only GET and HEAD\n');
    } else if (path === '/healthz') {
      const ok = opts.healthy?.() ?? true;
      res.writeHead(ok ? 200 : 503, { 'Content-Type': 'text/plain; charset=utf-8' }).end(ok ? 'OK\n' : 'unhealthy\n');
    } else if (path === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(text),
        (err: Error) => {
          log.warn({ err }, 'metrics collection failed');
          res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`metrics collection failed: ${err.message}\n`);
        },
      );
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found: this listener serves /healthz and /metrics\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.bind, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((err: Error) => {
    throw new Error(`cannot listen on ${settings.bind}:${settings.port} (${err.message}): set ${opts.portVariable} or GITFAAS_BIND`, { cause: err });
  });
  server.on('error', (err) => log.error({ err }, 'health listener error'));
  const { port } = server.address() as AddressInfo;
  const host = settings.bind.includes(':') ? `[${settings.bind}]` : settings.bind;
  const url = `http://${host}:${port}`;
  log.info({ url }, 'health and metrics listening');
  let stopped: Promise<void> | undefined;
  return {
    url,
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
