// The OpenFaaS REST API under /system (paths, JSON field names and status codes as
// faas-cli expects them; see docs/api.md).
import { Hono, type Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { stream } from 'hono/streaming';
import type { Invocations } from './invocations.js';
import type { FunctionStatus, Provider } from './providers/provider.js';
import type { AuthEnv } from './auth.js';
import { namespaceFor, principalOf } from './owner-access.js';
import { DeleteBody, DeploymentBody, ScaleBody, parseBody, requireLabel, toDeployment } from './requests.js';

export interface SystemRouteOptions {
  provider: Provider;
  invocations: Invocations;
  defaultNamespace: string;
  maxReplicas: number;
  version: string;
  /** The autoscaler's explanation, added to GET /system/function/<name> as `autoscaling`. */
  explainScaling?: (name: string, namespace: string) => Promise<object | undefined>;
}

/** OpenFaaS omits `replicas` at 0 (omitempty); clients read the missing key as 0. */
function toJson(status: FunctionStatus, invocations: Invocations): Record<string, unknown> {
  const { replicas, ...rest } = status;
  const out: Record<string, unknown> = { ...rest, invocationCount: invocations.total(status.name, status.namespace) };
  if (replicas) out.replicas = replicas;
  return out;
}

const ARCH: Record<string, string> = { x64: 'x86_64', arm64: 'arm64', arm: 'armhf' };

export function systemRoutes(opts: SystemRouteOptions): Hono<AuthEnv> {
  const { provider, invocations } = opts;
  const app = new Hono<AuthEnv>();
  // Owner credentials act on their own namespace only (owner-access.ts); secrets are in secret-routes.ts.
  const ns = (c: Context, fromBody: string | undefined, query: string | undefined) => namespaceFor(c, fromBody || query, opts.defaultNamespace);

  app.get('/system/functions', async (c) => {
    const list = await provider.list(ns(c, undefined, c.req.query('namespace')));
    await invocations.refresh();
    return c.json(list.map((s) => toJson(s, invocations)));
  });

  app.post('/system/functions', async (c) => {
    const body = await parseBody(c.req, DeploymentBody);
    requireLabel('function name', body.service);
    await provider.deploy(toDeployment(body, ns(c, body.namespace, c.req.query('namespace'))));
    return c.body(null, 202);
  });

  app.put('/system/functions', async (c) => {
    const body = await parseBody(c.req, DeploymentBody);
    requireLabel('function name', body.service);
    await provider.update(toDeployment(body, ns(c, body.namespace, c.req.query('namespace'))));
    return c.body(null, 202);
  });

  app.delete('/system/functions', async (c) => {
    const body = await parseBody(c.req, DeleteBody);
    const namespace = ns(c, body.namespace, c.req.query('namespace'));
    requireLabel('function name', body.functionName);
    await provider.remove(body.functionName, namespace);
    invocations.forget(body.functionName, namespace);
    return c.body(null, 202);
  });

  app.get('/system/function/:name', async (c) => {
    const name = c.req.param('name');
    const namespace = ns(c, undefined, c.req.query('namespace'));
    const status = await provider.get(name, namespace);
    if (!status) throw new HTTPException(404, { message: `function "${name}" not found in namespace "${namespace}"` });
    await invocations.refresh();
    const autoscaling = await opts.explainScaling?.(name, namespace).catch((err: Error) => ({ error: `the autoscaler's status cannot be read: ${err.message}` }));
    return c.json(autoscaling ? { ...toJson(status, invocations), autoscaling } : toJson(status, invocations));
  });

  app.post('/system/scale-function/:name', async (c) => {
    const body = await parseBody(c.req, ScaleBody);
    const name = c.req.param('name');
    const namespace = ns(c, body.namespace, c.req.query('namespace'));
    if (!Number.isInteger(body.replicas) || body.replicas < 0 || body.replicas > opts.maxReplicas) {
      throw new HTTPException(400, { message: `replicas must be a whole number from 0 to ${opts.maxReplicas}, got ${body.replicas}` });
    }
    await provider.scale(name, namespace, body.replicas);
    return c.body(null, 202);
  });

  app.get('/system/info', (c) =>
    c.json({
      provider: {
        provider: provider.info.name,
        orchestration: provider.info.orchestration,
        version: { sha: 'unknown', release: provider.info.version },
      },
      version: { sha: 'unknown', release: opts.version, commit_message: '' },
      arch: ARCH[process.arch] ?? process.arch,
    }),
  );

  app.get('/system/namespaces', async (c) => {
    const who = principalOf(c);
    if (who.role === 'owner') return c.json([who.namespace]);
    const all = new Set([opts.defaultNamespace, ...(await provider.namespaces())]);
    return c.json([...all].sort());
  });

  app.get('/system/logs', async (c) => {
    const name = c.req.query('name');
    if (!name) throw new HTTPException(400, { message: 'the query parameter "name" is required' });
    const namespace = ns(c, undefined, c.req.query('namespace'));
    if (!(await provider.get(name, namespace))) throw new HTTPException(404, { message: `function "${name}" not found in namespace "${namespace}"` });
    const follow = c.req.query('follow') === 'true' || c.req.query('follow') === '1';
    const tailText = c.req.query('tail');
    const tail = tailText === undefined || tailText === '' ? undefined : Number(tailText);
    if (tail !== undefined && !Number.isInteger(tail)) throw new HTTPException(400, { message: `tail must be a whole number, got "${tailText}"` });
    const sinceText = c.req.query('since');
    const since = sinceText ? new Date(sinceText) : undefined;
    if (since && Number.isNaN(since.getTime())) throw new HTTPException(400, { message: `since must be an RFC 3339 time, got "${sinceText}"` });
    c.header('Content-Type', 'application/x-ndjson');
    return stream(c, async (out) => {
      const abort = new AbortController();
      out.onAbort(() => abort.abort());
      for await (const message of provider.logs({ name, namespace, follow, tail, since, signal: abort.signal })) {
        await out.write(`${JSON.stringify(message)}\n`);
      }
    });
  });

  return app;
}
