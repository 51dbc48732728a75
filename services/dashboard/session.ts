// Dashboard sessions in a signed cookie (no server state, so any gateway can read it):
// base64url(JSON) + "." + HMAC-SHA256, HttpOnly, SameSite=Strict, Path=/ui, with an expiry
// inside the signed payload (a replayed old cookie is refused even if the browser kept it).
// Every change also needs the X-CSRF-Token header: an HMAC of the session id, which the page
// reads from GET /ui/api/session; a cross-site form cannot set a header.
import { createHmac, randomBytes } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { safeEqual } from '../../shared/safe-equal.js';

export const SESSION_COOKIE = 'gitfaas_session';
export const CSRF_HEADER = 'x-csrf-token';

export interface Session {
  /** Random id; the CSRF token is derived from it. */
  id: string;
  /** "admin", or the owner's login. */
  user: string;
  role: 'admin' | 'owner';
  /** The one namespace an owner may see; undefined for the admin (every namespace). */
  namespace?: string;
  /** Expiry, ms since the epoch. */
  exp: number;
}

export type SessionEnv = { Variables: { session: Session } };

export class Sessions {
  constructor(
    private readonly secret: string,
    readonly ttlMs: number,
    private readonly secure = false,
  ) {}

  sign(data: string): string {
    return createHmac('sha256', this.secret).update(data).digest('base64url');
  }

  csrfToken(session: Session): string {
    return this.sign(`csrf:${session.id}`);
  }

  /** Starts a session and sets its cookie. */
  start(c: Context, who: Omit<Session, 'id' | 'exp'>, now = Date.now()): Session {
    const session: Session = { ...who, id: randomBytes(16).toString('base64url'), exp: now + this.ttlMs };
    setCookie(c, SESSION_COOKIE, this.encode(session), {
      path: '/ui',
      httpOnly: true,
      sameSite: 'Strict',
      secure: this.secure,
      maxAge: Math.floor(this.ttlMs / 1000),
    });
    return session;
  }

  encode(session: Session): string {
    const data = Buffer.from(JSON.stringify(session)).toString('base64url');
    return `${data}.${this.sign(data)}`;
  }

  /** The session of a cookie value, or why there is none. */
  decode(cookie: string | undefined, now = Date.now()): Session | { problem: string } {
    if (!cookie) return { problem: 'not signed in' };
    const dot = cookie.indexOf('.');
    if (dot <= 0 || !safeEqual(cookie.slice(dot + 1), this.sign(cookie.slice(0, dot)))) return { problem: 'session not valid: sign in again' };
    let session: Session;
    try {
      session = JSON.parse(Buffer.from(cookie.slice(0, dot), 'base64url').toString('utf8')) as Session;
    } catch {
      return { problem: 'session not valid: sign in again' };
    }
    if (typeof session.exp !== 'number' || session.exp <= now) return { problem: 'session expired: sign in again' };
    return session;
  }

  end(c: Context): void {
    deleteCookie(c, SESSION_COOKIE, { path: '/ui' });
  }

  /** 401 without a live session; on anything but GET/HEAD, 403 without the session's CSRF token. */
  require(): MiddlewareHandler<SessionEnv> {
    return async (c, next) => {
      const session = this.decode(getCookie(c, SESSION_COOKIE));
      if ('problem' in session) return c.json({ error: session.problem }, 401);
      if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
        const token = c.req.header(CSRF_HEADER) ?? '';
        if (!safeEqual(token, this.csrfToken(session))) return c.json({ error: 'missing or wrong CSRF token (X-CSRF-Token): reload the page' }, 403);
      }
      c.set('session', session);
      await next();
    };
  }
}

/** Whether the session may see and change functions and builds of this namespace. */
export function mayAccess(session: Session, namespace: string): boolean {
  return session.role === 'admin' || session.namespace === namespace;
}
