// What owner credentials may do under /system (docs/tenancy.md). Everything not listed here
// is the admin's alone, so a route added later stays closed to owners until it is added on
// purpose. Owners read their namespace's functions and logs and manage its secrets and
// their own token; functions are deployed, changed and removed by git pushes, not by hand.
import type { Context, MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { AuthEnv, Principal } from './auth.js';
import { requireLabel } from './requests.js';

const OWNER_ROUTES: { method: string; path: RegExp }[] = [
  { method: 'GET', path: /^\/system\/functions$/ },
  { method: 'GET', path: /^\/system\/function\/[^/]+$/ },
  { method: 'GET', path: /^\/system\/function\/[^/]+\/ready$/ },
  { method: 'GET', path: /^\/system\/logs$/ },
  { method: 'GET', path: /^\/system\/info$/ },
  { method: 'GET', path: /^\/system\/namespaces$/ },
  ...['GET', 'POST', 'PUT', 'DELETE'].map((method) => ({ method, path: /^\/system\/secrets$/ })),
  ...['GET', 'POST', 'DELETE'].map((method) => ({ method, path: /^\/system\/owner-tokens\/[^/]+$/ })),
];

/** 403 for an owner on any route outside OWNER_ROUTES; the admin passes. */
export function ownerRoutesOnly(): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const who = c.get('principal');
    const method = c.req.method === 'HEAD' ? 'GET' : c.req.method;
    if (who?.role === 'owner' && !OWNER_ROUTES.some((r) => r.method === method && r.path.test(c.req.path))) {
      return c.text(
        `forbidden: owner credentials of namespace "${who.namespace}" cannot use ${c.req.method} ${c.req.path}; owners read their functions and logs and manage their secrets, functions are deployed by git pushes (docs/tenancy.md)\n`,
        403,
      );
    }
    await next();
  };
}

/** The principal of a request that passed systemAuth; failing closed if a route was mounted without it. */
export function principalOf(c: Context): Principal {
  const who = c.get('principal') as Principal | undefined;
  if (!who) throw new Error(`no principal for ${c.req.method} ${c.req.path}: systemAuth must run before /system routes`);
  return who;
}

/**
 * The namespace a /system request acts on: the one asked for (body or query), else the
 * default. An owner's default is their own namespace, and any other is refused with 403.
 */
export function namespaceFor(c: Context, requested: string | undefined, fallback: string): string {
  const who = principalOf(c);
  if (who.role === 'admin') return requireLabel('namespace', requested || fallback);
  if (requested && requested !== who.namespace) {
    throw new HTTPException(403, { message: `forbidden: owner credentials of namespace "${who.namespace}" cannot reach namespace "${requested}"` });
  }
  return who.namespace;
}
