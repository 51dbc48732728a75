// HTTP basic auth with one user and password, for the admin API of any service (the
// gateway's /system/*, the webhooks service's /system/builds): both values compared in
// constant time, 401 with WWW-Authenticate otherwise (also for faas-cli's empty "Bearer "
// when not logged in).
import type { Context, MiddlewareHandler } from 'hono';
import { safeEqual } from './safe-equal.js';

const CHALLENGE = 'Basic realm="gitfaas", charset="UTF-8"';

export interface BasicCredentials {
  user: string;
  password: string;
}

/** The user and password of a Basic Authorization header; undefined when there is none. */
export function basicCredentials(header: string): BasicCredentials | 'malformed' | undefined {
  const match = /^basic\s+(\S+)\s*$/i.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return 'malformed';
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** 401 with the challenge; the text tells a sender of Basic credentials that they were wrong. */
export function refuseBasic(c: Context, sentBasic: boolean): Response {
  c.header('WWW-Authenticate', CHALLENGE);
  return c.text(sentBasic ? 'unauthorized: wrong user or password\n' : 'unauthorized: send HTTP basic auth (faas-cli login)\n', 401);
}

/** True when user and password are the pair, both compared every time so timing does not tell which one was wrong. */
export function isPair(sent: BasicCredentials, user: string, password: string): boolean {
  const userOk = safeEqual(sent.user, user);
  const passwordOk = safeEqual(sent.password, password);
  return userOk && passwordOk;
}

export function basicAuth(user: string, password: string): MiddlewareHandler {
  return async (c, next) => {
    const sent = basicCredentials(c.req.header('authorization') ?? '');
    if (!sent || sent === 'malformed' || !isPair(sent, user, password)) return refuseBasic(c, sent !== undefined);
    await next();
  };
}
