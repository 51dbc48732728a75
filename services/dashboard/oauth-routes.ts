// Owner sign-in with GitHub or GitLab (the OAuth web flow):
//   GET /ui/oauth/<host>/start     -> the host's authorize page, with a random state that a
//                                     short-lived signed cookie (SameSite=Lax, so it comes back
//                                     on the host's redirect) remembers
//   GET /ui/oauth/<host>/callback  -> state checked in constant time, code traded for a token,
//                                     GET /user, allowlist checked, session for gh-/gl-<login>
// Failures land on the sign-in page with the reason (?signin_error=).
import { randomBytes } from 'node:crypto';
import type { Context } from 'hono';
import { Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Logger } from '../../shared/logger.js';
import { ownerNamespace } from '../../shared/names.js';
import type { Allowlist } from '../../shared/allowlist.js';
import { safeEqual } from '../../shared/safe-equal.js';
import type { DashboardSettings, OAuthClient } from './config.js';
import { GITHUB, GITLAB, OAuthError, type OAuthHost } from './oauth-hosts.js';
import type { Sessions } from './session.js';

const STATE_COOKIE = 'gitfaas_oauth';
const STATE_TTL_MS = 10 * 60 * 1000;

export interface OAuthRouteOptions {
  settings: DashboardSettings;
  sessions: Sessions;
  allowlist: Allowlist;
  log: Logger;
}

/** The OAuth sign-ins configured, by path name. */
export function oauthHosts(settings: DashboardSettings): Map<string, { host: OAuthHost; client: OAuthClient }> {
  const hosts = new Map<string, { host: OAuthHost; client: OAuthClient }>();
  if (settings.github) hosts.set('github', { host: GITHUB, client: settings.github });
  if (settings.gitlab) hosts.set('gitlab', { host: GITLAB, client: settings.gitlab });
  return hosts;
}

export function oauthRoutes(opts: OAuthRouteOptions): Hono {
  const { sessions, allowlist, log } = opts;
  const hosts = oauthHosts(opts.settings);
  const app = new Hono();
  const redirectUri = (c: Context, name: string) => `${opts.settings.publicUrl ?? new URL(c.req.url).origin}/ui/oauth/${name}/callback`;
  const fail = (c: Context, message: string) => c.redirect(`/ui/?signin_error=${encodeURIComponent(message)}`, 302);

  app.get('/ui/oauth/:host/start', (c) => {
    const name = c.req.param('host');
    const entry = hosts.get(name);
    if (!entry) return c.text(`sign-in with "${name}" is not configured on this gateway\n`, 404);
    const state = randomBytes(24).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ state, host: name, exp: Date.now() + STATE_TTL_MS })).toString('base64url');
    setCookie(c, STATE_COOKIE, `${payload}.${sessions.sign(`oauth:${payload}`)}`, { path: '/ui/oauth', httpOnly: true, sameSite: 'Lax', maxAge: STATE_TTL_MS / 1000 });
    return c.redirect(entry.host.authorizeUrl(entry.client, redirectUri(c, name), state), 302);
  });

  app.get('/ui/oauth/:host/callback', async (c) => {
    const name = c.req.param('host');
    const entry = hosts.get(name);
    if (!entry) return c.text(`sign-in with "${name}" is not configured on this gateway\n`, 404);
    const cookie = getCookie(c, STATE_COOKIE) ?? '';
    deleteCookie(c, STATE_COOKIE, { path: '/ui/oauth' });
    const [payload = '', signature = ''] = cookie.split('.');
    const remembered = payload && safeEqual(signature, sessions.sign(`oauth:${payload}`)) ? (JSON.parse(Buffer.from(payload, 'base64url').toString()) as { state: string; host: string; exp: number }) : undefined;
    const state = c.req.query('state') ?? '';
    if (!remembered || remembered.host !== name || remembered.exp < Date.now() || !safeEqual(state, remembered.state)) {
      return fail(c, `the ${entry.host.label} sign-in could not be matched to this browser (missing, expired or wrong state): try again`);
    }
    const hostError = c.req.query('error');
    if (hostError) return fail(c, `${entry.host.label} did not sign you in: ${c.req.query('error_description') ?? hostError}`);
    const code = c.req.query('code');
    if (!code) return fail(c, `${entry.host.label} sent no code back: try again`);
    let login: string;
    try {
      login = await entry.host.login(entry.client, code, redirectUri(c, name));
    } catch (err) {
      if (!(err instanceof OAuthError)) log.error({ err, host: name }, 'OAuth sign-in failed');
      return fail(c, err instanceof OAuthError ? err.message : `${entry.host.label} could not be reached: try again later`);
    }
    if (!allowlist.allows(login, entry.host.scm)) {
      log.info({ login, host: name }, 'dashboard sign-in refused: not on the customer list');
      return fail(c, `${login} on ${entry.host.label} is not on this platform's customer list: ask the operator to add you`);
    }
    sessions.start(c, { user: login, role: 'owner', namespace: ownerNamespace(entry.host.scm, login) });
    log.info({ login, host: name }, 'owner signed in to the dashboard');
    return c.redirect('/ui/#/functions', 302);
  });
  return app;
}
