// The admin builds API on the webhooks service (docs/api.md, "Builds"), behind the
// gateway's admin credentials (HTTP basic auth):
//   GET  /system/builds[?repository=owner/name&scm=github&limit=20]   newest first
//   GET  /system/builds/:id
//   GET  /system/repositories                                          what rebuilds can name
//   POST /system/builds/rebuild   {"repository":"owner/name","sha"?:..,"scm"?:..}   202
//   POST /system/builds/redeploy  {"repository":"owner/name","scm"?:..}             202
//   GET  /system/deploys, POST /system/rollback                        rollback-route.ts
import { readFile } from 'node:fs/promises';
import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { basicAuth } from '../../shared/basic-auth.js';
import type { Logger } from '../../shared/logger.js';
import { AdminRequestError, findRepository, rebuild, redeploy, type AdminActionDeps } from './admin-actions.js';
import { addRollbackRoutes, type RollbackRouteDeps } from './rollback-route.js';

export interface AdminBuildsDeps extends AdminActionDeps {
  adminUser: string;
  adminPassword?: string;
  /** Read when no password is given: the gateway's generated one. */
  adminPasswordFile: string;
  log: Logger;
  /** The rollback routes (rollback-route.ts), when the rollbacks queue is given. */
  rollback?: Pick<RollbackRouteDeps, 'rollbacks' | 'prefix' | 'rollbackWaitMs'>;
}

/** Basic auth with the admin password, read from its file on first use when not given. */
export function adminAuth(deps: Pick<AdminBuildsDeps, 'adminUser' | 'adminPassword' | 'adminPasswordFile'>): MiddlewareHandler {
  let check: MiddlewareHandler | undefined;
  return async (c, next) => {
    if (!check) {
      let password = deps.adminPassword;
      if (!password) {
        password = (await readFile(deps.adminPasswordFile, 'utf8').catch(() => '')).trim();
        if (!password) {
          return c.text(`the admin API needs GITFAAS_ADMIN_PASSWORD (or _FILE) or ${deps.adminPasswordFile} on the webhooks service\n`, 503);
        }
      }
      check = basicAuth(deps.adminUser, password);
    }
    return check(c, next);
  };
}

async function jsonBody(c: { req: { json: () => Promise<unknown> } }): Promise<Record<string, unknown>> {
  const body = await c.req.json().catch(() => undefined);
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new AdminRequestError('expected a JSON object body', 400);
  return body as Record<string, unknown>;
}

export function adminBuildsRoute(deps: AdminBuildsDeps): Hono {
  const app = new Hono();
  const { history } = deps.enqueuer;
  app.use('/system/*', adminAuth(deps));
  app.use('/system/*', bodyLimit({ maxSize: 64 * 1024, onError: (c) => c.text('body larger than 64 KB\n', 413) }));
  app.onError((err, c) => {
    if (err instanceof AdminRequestError) return c.text(`${err.message}\n`, err.status);
    deps.log.error({ err, path: c.req.path }, 'admin builds API error');
    return c.text(`internal error: ${(err as Error).message}\n`, 500);
  });

  app.get('/system/builds', async (c) => {
    const limit = Number(c.req.query('limit') ?? 20);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new AdminRequestError('limit must be a whole number from 1 to 500', 400);
    const fullName = c.req.query('repository');
    if (fullName === undefined) return c.json({ builds: await history.list({ limit }) });
    const repo = await findRepository(deps, fullName, c.req.query('scm'));
    return c.json({ repository: repo, builds: await history.list({ repository: repo, limit }) });
  });

  app.get('/system/builds/:id', async (c) => {
    const build = await history.get(c.req.param('id'));
    return build ? c.json(build) : c.text(`no build ${c.req.param('id')} in the build history (it may have expired)\n`, 404);
  });

  app.get('/system/repositories', async (c) => c.json({ repositories: await history.repositories() }));

  app.post('/system/builds/rebuild', async (c) => {
    const body = await jsonBody(c);
    const repo = await findRepository(deps, body.repository, body.scm);
    const queued = await rebuild(deps, repo, body.sha, 'admin');
    deps.log.info({ repo: repo.fullName, ...queued }, `rebuild queued; log at ${queued.logUrl}`);
    return c.json({ message: 'rebuild queued', ...queued }, 202);
  });

  app.post('/system/builds/redeploy', async (c) => {
    const body = await jsonBody(c);
    const repo = await findRepository(deps, body.repository, body.scm);
    const queued = await redeploy(deps, repo, 'admin');
    deps.log.info({ repo: repo.fullName, ...queued }, `redeploy queued; log at ${queued.logUrl}`);
    return c.json({ message: 'redeploy queued', ...queued }, 202);
  });
  if (deps.rollback) addRollbackRoutes(app, { ...deps, ...deps.rollback });
  return app;
}
