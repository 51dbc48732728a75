// HTTP basic auth for /system/*: constant-time comparison of user and password, 401 with
// WWW-Authenticate otherwise (also for faas-cli's empty "Bearer " when not logged in).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** True when a and b are equal, in time that does not depend on where they differ. */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

export function basicAuth(user: string, password: string): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^basic\s+(\S+)\s*$/i.exec(header);
    let ok = false;
    if (match) {
      const decoded = Buffer.from(match[1], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon !== -1) {
        // Both compared every time, so timing does not tell which one was wrong.
        const userOk = safeEqual(decoded.slice(0, colon), user);
        const passwordOk = safeEqual(decoded.slice(colon + 1), password);
        ok = userOk && passwordOk;
      }
    }
    if (!ok) {
      c.header('WWW-Authenticate', 'Basic realm="gitfaas", charset="UTF-8"');
      return c.text(match ? 'unauthorized: wrong user or password\n' : 'unauthorized: send HTTP basic auth (faas-cli login)\n', 401);
    }
    await next();
  };
}
