// HTTP basic auth for /system/*: constant-time comparison of user and password, 401 with
// WWW-Authenticate otherwise (also for faas-cli's empty "Bearer " when not logged in).
// systemAuth also accepts an owner's token (shared/owner-tokens.ts): user = the owner's
// namespace, password = the token; what an owner may then do is owner-access.ts's job.
import type { Context, MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { OwnerTokens } from '../../shared/owner-tokens.js';
import { safeEqual } from '../../shared/safe-equal.js';

export { safeEqual };

/** Who a /system request comes from. */
export type Principal = { role: 'admin' } | { role: 'owner'; namespace: string };
export type AuthEnv = { Variables: { principal: Principal } };

const CHALLENGE = 'Basic realm="gitfaas", charset="UTF-8"';

/** The user and password of a Basic Authorization header; undefined when there is none. */
function basicCredentials(header: string): { user: string; password: string } | 'malformed' | undefined {
  const match = /^basic\s+(\S+)\s*$/i.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return 'malformed';
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function refuse(c: Context, sentBasic: boolean): Response {
  c.header('WWW-Authenticate', CHALLENGE);
  return c.text(sentBasic ? 'unauthorized: wrong user or password\n' : 'unauthorized: send HTTP basic auth (faas-cli login)\n', 401);
}

/** True when user and password are the pair, both compared every time so timing does not tell which one was wrong. */
function isPair(sent: { user: string; password: string }, user: string, password: string): boolean {
  const userOk = safeEqual(sent.user, user);
  const passwordOk = safeEqual(sent.password, password);
  return userOk && passwordOk;
}

export function basicAuth(user: string, password: string): MiddlewareHandler {
  return async (c, next) => {
    const sent = basicCredentials(c.req.header('authorization') ?? '');
    if (!sent || sent === 'malformed' || !isPair(sent, user, password)) return refuse(c, sent !== undefined);
    await next();
  };
}

export interface SystemAuthOptions {
  adminUser: string;
  adminPassword: string;
  /** Owner tokens; without them only the admin gets in. */
  ownerTokens?: OwnerTokens;
}

/** The admin's pair, or an owner namespace and its token; sets c.var.principal. */
export function systemAuth(opts: SystemAuthOptions): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const sent = basicCredentials(c.req.header('authorization') ?? '');
    if (!sent || sent === 'malformed') return refuse(c, sent !== undefined);
    if (isPair(sent, opts.adminUser, opts.adminPassword)) {
      c.set('principal', { role: 'admin' });
      return next();
    }
    // The admin's user name is never an owner namespace, whatever token is sent.
    if (!opts.ownerTokens || sent.user === opts.adminUser) return refuse(c, true);
    let ok: boolean;
    try {
      ok = await opts.ownerTokens.verify(sent.user, sent.password);
    } catch (err) {
      throw new HTTPException(503, { message: 'owner credentials cannot be checked right now (Redis unreachable): try again, or use the admin credentials', cause: err });
    }
    if (!ok) return refuse(c, true);
    c.set('principal', { role: 'owner', namespace: sent.user });
    await next();
  };
}
