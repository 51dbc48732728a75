// /system/owner-tokens/<namespace>: the admin makes, reads and revokes any owner's token;
// an owner signed in with their token may do the same for their own namespace (rotate it,
// or revoke it, which also ends the credentials in use). POST answers the token once; GET
// says only whether there is one and when it was made. The token is never logged.
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { OwnerTokens } from '../../shared/owner-tokens.js';
import type { AuthEnv } from './auth.js';
import { namespaceFor, principalOf } from './owner-access.js';

export function ownerTokenRoutes(tokens: OwnerTokens): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const target = (c: Parameters<typeof namespaceFor>[0]) => namespaceFor(c, c.req.param('namespace'), '');

  app.post('/system/owner-tokens/:namespace', async (c) => {
    const namespace = target(c);
    const who = principalOf(c);
    const { token, info } = await tokens.create(namespace, who.role === 'admin' ? 'admin' : namespace);
    c.header('Cache-Control', 'no-store');
    return c.json({ ...info, token, note: `shown once: faas-cli login -u ${namespace} --password-stdin` }, 201);
  });

  app.get('/system/owner-tokens/:namespace', async (c) => {
    const namespace = target(c);
    const info = await tokens.info(namespace);
    if (!info) throw new HTTPException(404, { message: `namespace "${namespace}" has no owner token` });
    return c.json(info);
  });

  app.delete('/system/owner-tokens/:namespace', async (c) => {
    const namespace = target(c);
    if (!(await tokens.revoke(namespace))) throw new HTTPException(404, { message: `namespace "${namespace}" has no owner token` });
    return c.body(null, 202);
  });
  return app;
}
