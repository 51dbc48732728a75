// The functions API of the dashboard: list (and its live feed), one function, its logs,
// and scaling. Every route checks the session's namespace on the server: an owner asking
// for another namespace gets 403, whatever the page does.
import type { Context } from 'hono';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { streamSSE } from 'hono/streaming';
import { dnsLabelProblem } from '../../shared/names.js';
import type { CallStats } from './call-stats.js';
import { detail, summarise, type FunctionSummary } from './function-views.js';
import type { FunctionsPort, InvocationCounts } from './host.js';
import { mayAccess, type SessionEnv } from './session.js';

export interface FunctionRouteOptions {
  functions: FunctionsPort;
  invocations: InvocationCounts;
  callStats: CallStats;
  defaultNamespace: string;
  maxReplicas: number;
  /** Owner subdomains: <namespace>.<domain>. */
  domain: string;
  /** How often the live list looks for changes. */
  pollMs?: number;
}

/** The namespace of a request, refused unless the session may see it. */
export function allowedNamespace(c: Context<SessionEnv>, namespace: string): string {
  const problem = dnsLabelProblem(namespace);
  if (problem) throw new HTTPException(400, { message: `the namespace ${problem}` });
  if (!mayAccess(c.get('session'), namespace)) throw new HTTPException(403, { message: `namespace "${namespace}" is not yours` });
  return namespace;
}

export function functionRoutes(opts: FunctionRouteOptions): Hono<SessionEnv> {
  const { functions, invocations, callStats } = opts;
  const app = new Hono<SessionEnv>();

  /** Namespaces the session may pick from: all for the admin, its own for an owner. */
  const namespacesOf = async (c: Context<SessionEnv>): Promise<string[]> => {
    const session = c.get('session');
    if (session.role !== 'admin') return [session.namespace!];
    return [...new Set([opts.defaultNamespace, ...(await functions.namespaces())])].sort();
  };

  /** The functions of ?namespace= (or, without it, of every namespace the session may see). */
  const listFor = async (c: Context<SessionEnv>): Promise<FunctionSummary[]> => {
    const asked = c.req.query('namespace');
    const namespaces = asked ? [allowedNamespace(c, asked)] : await namespacesOf(c);
    const lists = await Promise.all(namespaces.map((ns) => functions.list(ns)));
    await invocations.refresh();
    return lists
      .flat()
      .map((s) => summarise(s, invocations.total(s.name, s.namespace), callStats.figures(s.name, s.namespace)))
      .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  };

  const fn = async (c: Context<SessionEnv>) => {
    const namespace = allowedNamespace(c, c.req.param('namespace')!);
    const name = c.req.param('name')!;
    const status = await functions.get(name, namespace);
    if (!status) throw new HTTPException(404, { message: `function "${name}" not found in namespace "${namespace}"` });
    return status;
  };

  app.get('/ui/api/namespaces', async (c) => c.json({ namespaces: await namespacesOf(c), domain: opts.domain }));

  app.get('/ui/api/functions', async (c) => c.json({ functions: await listFor(c) }));

  // Server-sent events: the list again whenever it changes (checked every pollMs).
  app.get('/ui/api/functions/events', async (c) => {
    const first = await listFor(c);
    return streamSSE(c, async (sse) => {
      let aborted = false;
      sse.onAbort(() => {
        aborted = true;
      });
      let last = JSON.stringify(first);
      await sse.writeSSE({ event: 'functions', data: last });
      while (!aborted) {
        await sse.sleep(opts.pollMs ?? 1500);
        if (aborted) break;
        const now = JSON.stringify(await listFor(c).catch(() => undefined));
        if (now !== 'undefined' && now !== last) {
          last = now;
          await sse.writeSSE({ event: 'functions', data: now });
        }
      }
    });
  });

  app.get('/ui/api/functions/:namespace/:name', async (c) => {
    const status = await fn(c);
    const { name, namespace } = status;
    await invocations.refresh();
    return c.json(detail(status, invocations.total(name, namespace), callStats.figures(name, namespace), callStats.series(name, namespace)));
  });

  app.post('/ui/api/functions/:namespace/:name/scale', async (c) => {
    const status = await fn(c);
    const body = (await c.req.json().catch(() => undefined)) as { replicas?: unknown } | undefined;
    const replicas = body?.replicas;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0 || replicas > opts.maxReplicas) {
      throw new HTTPException(400, { message: `replicas must be a whole number from 0 to ${opts.maxReplicas}` });
    }
    await functions.scale(status.name, status.namespace, replicas);
    return c.json({ replicas }, 202);
  });

  // The function's logs as server-sent events, one "log" event per line.
  app.get('/ui/api/functions/:namespace/:name/logs', async (c) => {
    const status = await fn(c);
    const follow = c.req.query('follow') !== 'false';
    const tailText = c.req.query('tail') ?? '100';
    const tail = Number(tailText);
    if (!Number.isInteger(tail)) throw new HTTPException(400, { message: `tail must be a whole number, got "${tailText}"` });
    return streamSSE(c, async (sse) => {
      const abort = new AbortController();
      sse.onAbort(() => abort.abort());
      for await (const message of functions.logs({ name: status.name, namespace: status.namespace, follow, tail, signal: abort.signal })) {
        await sse.writeSSE({ event: 'log', data: JSON.stringify({ timestamp: message.timestamp, instance: message.instance, text: message.text }) });
      }
      await sse.writeSSE({ event: 'end', data: '' });
    });
  });

  return app;
}
