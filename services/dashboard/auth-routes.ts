// Sign-in and sign-out. The admin signs in with the gateway's admin credentials, compared in
// constant time as the API's basic auth does. Login takes JSON only, so a cross-site form
// cannot sign a browser in as someone else (login CSRF).
import { Hono } from 'hono';
import { safeEqual } from '../../shared/safe-equal.js';
import { type Sessions, type SessionEnv } from './session.js';

export interface AuthRouteOptions {
  sessions: Sessions;
  adminUser: string;
  adminPassword: string;
  /** Which OAuth sign-ins are offered on the sign-in page. */
  providers: () => string[];
}

export function authRoutes(opts: AuthRouteOptions): Hono<SessionEnv> {
  const { sessions } = opts;
  const app = new Hono<SessionEnv>();

  app.post('/ui/api/login', async (c) => {
    if (!(c.req.header('content-type') ?? '').startsWith('application/json')) {
      return c.json({ error: 'send the credentials as JSON: {"user":..., "password":...}' }, 415);
    }
    const body = (await c.req.json().catch(() => undefined)) as { user?: unknown; password?: unknown } | undefined;
    if (!body || typeof body.user !== 'string' || typeof body.password !== 'string') {
      return c.json({ error: 'expected {"user":"...","password":"..."}' }, 400);
    }
    // Both compared every time, so timing does not tell which one was wrong.
    const userOk = safeEqual(body.user, opts.adminUser);
    const passwordOk = safeEqual(body.password, opts.adminPassword);
    if (!(userOk && passwordOk)) return c.json({ error: 'wrong user or password' }, 401);
    const session = sessions.start(c, { user: opts.adminUser, role: 'admin' });
    return c.json({ user: session.user, role: session.role, csrf: sessions.csrfToken(session), expiresAt: new Date(session.exp).toISOString() });
  });

  app.get('/ui/api/login-options', (c) => c.json({ providers: opts.providers() }));

  app.use('/ui/api/session', sessions.require());
  app.use('/ui/api/logout', sessions.require());

  app.get('/ui/api/session', (c) => {
    const session = c.get('session');
    return c.json({
      user: session.user,
      role: session.role,
      namespace: session.namespace ?? null,
      csrf: sessions.csrfToken(session),
      expiresAt: new Date(session.exp).toISOString(),
    });
  });

  app.post('/ui/api/logout', (c) => {
    sessions.end(c);
    return c.json({ ok: true });
  });
  return app;
}
