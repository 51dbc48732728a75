// The secrets page's API: a namespace's secret names, create / update / remove, and the
// owner's API token (made, shown once, revoked). Every route checks the session's namespace
// on the server (allowedNamespace: an owner reaching another namespace gets 403). A value
// goes to the gateway's provider and is never answered back; the token is answered once, on creation.
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { z } from 'zod';
import type { OwnerTokens } from '../../shared/owner-tokens.js';
import { dnsLabelProblem } from '../../shared/names.js';
import { allowedNamespace } from './function-routes.js';
import type { SecretsPort } from './host.js';
import type { SessionEnv } from './session.js';

export interface SecretRouteOptions {
  secrets: SecretsPort;
  ownerTokens: OwnerTokens;
}

const ValueBody = z.object({ value: z.string({ message: 'value is required' }) });
const CreateBody = ValueBody.extend({ name: z.string({ message: 'name is required' }) });

async function body<T extends z.ZodType>(req: { json(): Promise<unknown> }, schema: T): Promise<z.output<T>> {
  const result = schema.safeParse(await req.json().catch(() => undefined));
  if (!result.success) throw new HTTPException(400, { message: result.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') });
  return result.data;
}

function secretName(name: string): string {
  const problem = dnsLabelProblem(name);
  if (problem) throw new HTTPException(400, { message: `the secret name "${name}" ${problem}` });
  return name;
}

export function secretRoutes(opts: SecretRouteOptions): Hono<SessionEnv> {
  const { secrets: store, ownerTokens } = opts;
  const app = new Hono<SessionEnv>();

  app.get('/ui/api/secrets/:namespace', async (c) => {
    const namespace = allowedNamespace(c, c.req.param('namespace'));
    const [secrets, token] = await Promise.all([store.listSecrets(namespace), ownerTokens.info(namespace)]);
    return c.json({ namespace, secrets: secrets.map((s) => s.name), token: token ?? null });
  });

  app.post('/ui/api/secrets/:namespace', async (c) => {
    const namespace = allowedNamespace(c, c.req.param('namespace'));
    const { name, value } = await body(c.req, CreateBody);
    await store.createSecret({ name: secretName(name), namespace, value });
    return c.json({ name, namespace }, 201);
  });

  app.put('/ui/api/secrets/:namespace/:name', async (c) => {
    const namespace = allowedNamespace(c, c.req.param('namespace'));
    const { value } = await body(c.req, ValueBody);
    await store.updateSecret({ name: secretName(c.req.param('name')), namespace, value });
    return c.json({ name: c.req.param('name'), namespace });
  });

  app.delete('/ui/api/secrets/:namespace/:name', async (c) => {
    const namespace = allowedNamespace(c, c.req.param('namespace'));
    await store.removeSecret(secretName(c.req.param('name')), namespace);
    return c.json({ ok: true });
  });

  app.post('/ui/api/token/:namespace', async (c) => {
    const namespace = allowedNamespace(c, c.req.param('namespace'));
    const session = c.get('session');
    const { token, info } = await ownerTokens.create(namespace, session.role === 'admin' ? 'admin' : session.user);
    c.header('Cache-Control', 'no-store');
    return c.json({ ...info, token }, 201);
  });

  app.delete('/ui/api/token/:namespace', async (c) => {
    const namespace = allowedNamespace(c, c.req.param('namespace'));
    if (!(await ownerTokens.revoke(namespace))) throw new HTTPException(404, { message: `namespace "${namespace}" has no API token` });
    return c.json({ ok: true });
  });
  return app;
}
