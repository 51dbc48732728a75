// A function's deploy history for the dashboard: what the deployer recorded going live for
// the function's repository (shared/deploy-history.ts, read from Redis under the queue
// prefix), reduced to this function: git sha, image digest, time and build id, newest first.
// The repository comes from the labels the deployer sets last (stack.yml cannot forge them),
// and a record counts only if it deployed into this namespace, so an owner never sees another
// owner's deploys through a function labelled by hand.
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Redis } from 'ioredis';
import { DeployHistory } from '../../shared/deploy-history.js';
import { Scm } from '../../shared/jobs.js';
import { allowedNamespace } from './function-routes.js';
import type { FunctionsPort } from './host.js';
import type { SessionEnv } from './session.js';

const SCM_LABEL = 'com.openfaas.cloud.git-scm';
const REPO_ID_LABEL = 'com.openfaas.cloud.git-repo-id';

export interface DeployEntry {
  sha: string;
  /** sha256:... of the image as deployed, or the whole reference when it has no digest. */
  imageDigest: string;
  image: string;
  at: string;
  buildId: string | null;
  /** Set when this deploy was a rollback: the sha it rolled back from. */
  rollbackFrom: string | null;
  /** The newest record holding the function: what runs now, unless someone deployed by hand since. */
  live: boolean;
}

export interface DeployRouteOptions {
  functions: Pick<FunctionsPort, 'get'>;
  redis: () => Redis;
  queuePrefix: string;
}

export function deployRoutes(opts: DeployRouteOptions): Hono<SessionEnv> {
  const app = new Hono<SessionEnv>();
  app.get('/ui/api/functions/:namespace/:name/deploys', async (c) => {
    const namespace = allowedNamespace(c, c.req.param('namespace'));
    const name = c.req.param('name');
    const status = await opts.functions.get(name, namespace);
    if (!status) throw new HTTPException(404, { message: `function "${name}" not found in namespace "${namespace}"` });
    const scm = Scm.safeParse(status.labels?.[SCM_LABEL]);
    const repoId = Number(status.labels?.[REPO_ID_LABEL]);
    if (!scm.success || !Number.isInteger(repoId)) return c.json({ repository: null, deploys: [] });
    const records = await new DeployHistory(opts.redis(), opts.queuePrefix).list({ scm: scm.data, repoId });
    const deploys: DeployEntry[] = [];
    for (const record of records) {
      if (record.source.namespace !== namespace) continue;
      const fn = record.functions.find((f) => f.name === name);
      if (!fn) continue;
      const at = fn.image.indexOf('@');
      deploys.push({
        sha: record.sha,
        imageDigest: at >= 0 ? fn.image.slice(at + 1) : fn.image,
        image: fn.image,
        at: record.at,
        buildId: record.buildId ?? null,
        rollbackFrom: record.rollbackFrom ?? null,
        live: deploys.length === 0,
      });
    }
    const repository = records.find((r) => r.source.namespace === namespace)?.source.fullName ?? null;
    return c.json({ repository, deploys });
  });
  return app;
}
