// /system/secrets as faas-cli speaks it: GET ?namespace= lists names only; POST creates, PUT
// updates, DELETE removes, each with the body {name, namespace, value | rawValue}. faas-cli
// sends --from-literal as `value` and --from-file as `rawValue`, which is Go's []byte and so
// arrives base64-encoded; it is decoded here and stored as bytes. A value is never echoed,
// logged or put in an error message.
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { AuthEnv } from './auth.js';
import { namespaceFor } from './owner-access.js';
import type { Provider, Secret } from './providers/provider.js';
import { SecretBody, parseBody, requireLabel } from './requests.js';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** rawValue wins over value, as in OpenFaaS's providers. */
function valueOf(body: { value?: string; rawValue?: string }): string | Uint8Array {
  if (body.rawValue === undefined || body.rawValue === '') return body.value ?? '';
  if (!BASE64.test(body.rawValue)) throw new HTTPException(400, { message: 'invalid request body: rawValue must be base64 (faas-cli sends --from-file contents this way)' });
  return Buffer.from(body.rawValue, 'base64');
}

export function secretRoutes(opts: { provider: Provider; defaultNamespace: string }): Hono<AuthEnv> {
  const { provider } = opts;
  const app = new Hono<AuthEnv>();

  app.get('/system/secrets', async (c) => {
    const namespace = namespaceFor(c, c.req.query('namespace'), opts.defaultNamespace);
    const secrets = await provider.listSecrets(namespace);
    // Names only, whatever a backend returns.
    return c.json(secrets.map((s) => ({ name: s.name, namespace: s.namespace })));
  });

  for (const method of ['post', 'put'] as const) {
    app[method]('/system/secrets', async (c) => {
      const body = await parseBody(c.req, SecretBody);
      const secret: Secret = {
        name: requireLabel('secret name', body.name),
        namespace: namespaceFor(c, body.namespace || c.req.query('namespace'), opts.defaultNamespace),
        value: valueOf(body),
      };
      if (method === 'post') await provider.createSecret(secret);
      else await provider.updateSecret(secret);
      return c.body(null, 202);
    });
  }

  app.delete('/system/secrets', async (c) => {
    const body = await parseBody(c.req, SecretBody);
    const name = requireLabel('secret name', body.name);
    await provider.removeSecret(name, namespaceFor(c, body.namespace || c.req.query('namespace'), opts.defaultNamespace));
    return c.body(null, 202);
  });
  return app;
}
