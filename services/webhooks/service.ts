// The webhook receiver: one HTTP server on 127.0.0.1 with a route per git host
// (/webhooks/github, /webhooks/gitlab). Other route modules mount beside them (the
// builder's build-log route at /logs) through `mounts`, so every public URL of the build side shares one port
// (GITFAAS_WEBHOOKS_PUBLIC_URL, which build-log links start with).
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Queue } from 'bullmq';
import { Hono } from 'hono';
import { Redis } from 'ioredis';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { DeployHistory } from '../../shared/deploy-history.js';
import { DEPLOYS_QUEUE, ROLLBACKS_QUEUE } from '../../shared/jobs.js';
import type { Logger } from '../../shared/logger.js';
import type { RunningService } from '../../shared/run-service.js';
import { hostClients } from '../../shared/status-router.js';
import { adminAuth, adminBuildsRoute } from './admin-builds-route.js';
import { createAllowlist } from '../../shared/allowlist.js';
import { buildLogRoute } from './build-log-route.js';
import type { WebhooksConfig } from './config.js';
import { BuildEnqueuer } from './enqueue.js';
import { githubWebhookRoute } from './github-route.js';
import { gitlabWebhookRoute } from './gitlab-route.js';
import { PreviewCloser } from './preview-close.js';
import { countDeliveries } from './metrics.js';
import { Reconciler, startReconciler } from './reconciler.js';

export interface WebhooksOptions {
  /**
   * Extra routes served on the same port. The GitHub and GitLab receivers and the
   * builder's build-log route (GET /logs/<token>) are always mounted.
   */
  mounts?: { path: string; app: Hono }[];
  /**
   * The process's metrics registry (services/main.ts shares one and serves it at the
   * gateway's /metrics). When not given, one is made here and served at GET /metrics on
   * this listener, behind the admin credentials.
   */
  registry?: Registry;
}

export interface RunningWebhooks extends RunningService {
  /** http://127.0.0.1:PORT, with the port actually bound (tests pass port 0). */
  url: string;
}

export async function startWebhooks(config: WebhooksConfig, log: Logger, options: WebhooksOptions = {}): Promise<RunningWebhooks> {
  const enqueuer = new BuildEnqueuer({
    redisUrl: config.redisUrl,
    prefix: config.queuePrefix,
    publicUrl: config.publicUrl,
    historyTtlMs: config.buildHistoryTtlMs,
  });
  // Statuses that explain a skipped or refused commit go to the commit's own host.
  const hosts = hostClients(config, enqueuer.redis, log, config.queuePrefix);
  const { reporter } = hosts;
  // Redeploys from the admin API go straight to the deployer.
  const deploys = new Queue(DEPLOYS_QUEUE, { connection: enqueuer.redis, prefix: config.queuePrefix });
  deploys.on('error', () => {});
  // Rollbacks from the admin API are run by the deployer (services/deployer/rollback-job.ts).
  const rollbacks = new Queue(ROLLBACKS_QUEUE, { connection: enqueuer.redis, prefix: config.queuePrefix });
  rollbacks.on('error', () => {});
  const allowlist = createAllowlist(config.customers, log);
  const previews = new PreviewCloser(enqueuer.redis, config.queuePrefix);
  if (!(await enqueuer.connected())) log.error('Redis (GITFAAS_REDIS_URL) is not reachable: webhooks get 503 until it is');

  const app = new Hono();
  app.get('/healthz', (c) => c.text('ok\n'));
  const registry = options.registry ?? new Registry();
  if (!options.registry) {
    collectDefaultMetrics({ register: registry });
    const auth = adminAuth({ adminUser: config.adminUser, adminPassword: config.adminPassword, adminPasswordFile: config.adminPasswordFile });
    app.get('/metrics', auth, async (c) => c.text(await registry.metrics(), 200, { 'Content-Type': registry.contentType }));
  }
  app.use('/webhooks/*', countDeliveries(registry));
  app.route('/webhooks/github', githubWebhookRoute({ secrets: config.webhookSecrets, enqueuer, allowlist, reporter, origins: config.gitOrigins, log, previews }));
  app.route('/webhooks/gitlab', gitlabWebhookRoute({ secrets: config.gitlabWebhookSecrets, enqueuer, allowlist, reporter, origins: config.gitOrigins, log, previews }));
  // The builder's build logs (GET /logs/<token>), linked from failed statuses.
  const logRedis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2 });
  logRedis.on('error', () => {});
  app.route('/', buildLogRoute(logRedis, config.queuePrefix));
  app.route(
    '/',
    adminBuildsRoute({
      enqueuer,
      deploys,
      cloneCredentials: (source) => hosts.cloneCredentials(source),
      adminUser: config.adminUser,
      adminPassword: config.adminPassword,
      adminPasswordFile: config.adminPasswordFile,
      log: log.child({ component: 'admin-builds' }),
      rollback: { rollbacks, prefix: config.queuePrefix },
    }),
  );
  for (const mount of options.mounts ?? []) app.route(mount.path, mount.app);
  app.notFound((c) => c.text(`no route for ${c.req.method} ${c.req.path}\n`, 404));
  app.onError((err, c) => {
    log.error({ err, path: c.req.path }, 'unhandled error');
    return c.text('internal error\n', 500);
  });

  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: config.port, hostname: config.bind }, () => resolve(s));
    s.once('error', (err) => reject(new Error(`webhooks cannot listen on ${config.bind}:${config.port} (GITFAAS_WEBHOOKS_PORT): ${err.message}`, { cause: err })));
  }).catch(async (err) => {
    await deploys.close().catch(() => {});
    await rollbacks.close().catch(() => {});
    await previews.stop();
    await enqueuer.close();
    logRedis.disconnect();
    throw err;
  });
  // After listening, a server still emits 'error' (e.g. EMFILE on accept): logged, never fatal.
  server.on('error', (err) => log.error({ err }, 'webhooks server error'));
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.bind}:${port}`;
  if (!config.publicUrl) enqueuer.usePublicUrl(url);
  log.info({ url }, 'webhook receiver listening');
  // Pushes whose webhook never arrived are caught here (reconciler.ts); it shares the
  // receiver's enqueuer, so it numbers and deduplicates exactly as the receiver does.
  const reconciler = config.reconcile.enabled
    ? startReconciler(
        new Reconciler({ enqueuer, deployHistory: new DeployHistory(enqueuer.redis, config.queuePrefix), hosts, allowlist, origins: config.gitOrigins, log: log.child({ component: 'reconciler' }) }),
        config.reconcile.intervalMs,
        log,
      )
    : undefined;

  let stopping: Promise<void> | undefined;
  return {
    url,
    stop() {
      stopping ??= (async () => {
        await reconciler?.stop();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          // Keep-alive sockets would hold close() open; requests in flight still finish.
          (server as import('node:http').Server).closeIdleConnections?.();
        });
        await deploys.close().catch(() => {});
        await rollbacks.close().catch(() => {});
        await previews.stop();
        await enqueuer.close();
        logRedis.disconnect();
      })();
      return stopping;
    },
  };
}
