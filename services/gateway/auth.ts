// Who may call /system/*: the admin's basic-auth pair (shared/basic-auth.ts), or an owner's
// token (shared/owner-tokens.ts) sent as basic auth with user = the owner's namespace and
// password = the token; what an owner may then do is owner-access.ts's job.
import type { MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { basicCredentials, isPair, refuseBasic } from '../../shared/basic-auth.js';
import type { OwnerTokens } from '../../shared/owner-tokens.js';

/** Who a /system request comes from. */
export type Principal = { role: 'admin' } | { role: 'owner'; namespace: string };
export type AuthEnv = { Variables: { principal: Principal } };

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
    if (!sent || sent === 'malformed') return refuseBasic(c, sent !== undefined);
    if (isPair(sent, opts.adminUser, opts.adminPassword)) {
      c.set('principal', { role: 'admin' });
      return next();
    }
    // The admin's user name is never an owner namespace, whatever token is sent.
    if (!opts.ownerTokens || sent.user === opts.adminUser) return refuseBasic(c, true);
    let ok: boolean;
    try {
      ok = await opts.ownerTokens.verify(sent.user, sent.password);
    } catch (err) {
      throw new HTTPException(503, { message: 'owner credentials cannot be checked right now (Redis unreachable): try again, or use the admin credentials', cause: err });
    }
    if (!ok) return refuseBasic(c, true);
    c.set('principal', { role: 'owner', namespace: sent.user });
    await next();
  };
}
