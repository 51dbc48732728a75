// GET /system/function/<name>/ready?namespace=&timeout=&image= (a gitfaas extension, see
// docs/api.md): holds the request until the function has a ready replica (and, with
// `image`, reports that image), then answers 200 with its status; 404 when the function is
// unknown or removed meanwhile, 504 saying what was missing when `timeout` passed first.
// It waits on the provider's change feed (the one Provider.waitUntilReady is built on), so
// callers such as the deployer need not poll GET /system/function/<name>.
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { sameImage } from '../../shared/same-image.js';
import type { AuthEnv } from './auth.js';
import { namespaceFor } from './owner-access.js';
import { ProviderError, type FunctionStatus, type Provider } from './providers/provider.js';

export const DEFAULT_READY_TIMEOUT_MS = 60_000;
export const MAX_READY_TIMEOUT_MS = 10 * 60_000;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/** `timeout` as the project's durations read (500ms, 30s, 2m; a bare number is milliseconds), up to MAX_READY_TIMEOUT_MS. */
export function parseReadyTimeout(text: string | undefined): number {
  if (text === undefined || text === '') return DEFAULT_READY_TIMEOUT_MS;
  const match = /^(\d+)(ms|s|m)?$/.exec(text.trim());
  const ms = match ? Number(match[1]) * UNIT_MS[match[2] ?? 'ms'] : NaN;
  if (!Number.isSafeInteger(ms) || ms <= 0 || ms > MAX_READY_TIMEOUT_MS) {
    throw new HTTPException(400, { message: `timeout must be a duration above 0 and at most ${MAX_READY_TIMEOUT_MS / 60_000} minutes (e.g. 500ms, 30s, 2m), got "${text}"` });
  }
  return ms;
}

export interface ReadyWait {
  timeoutMs: number;
  /** Also wait until the function reports this image (a digest-pinned reference matches by digest). */
  image?: string;
  signal?: AbortSignal;
}

/**
 * Resolves with the function's status (availableReplicas as the proxy sees them now) once it
 * has a ready replica and, when asked, the image. Rejects with ProviderError not_found
 * (unknown or removed), timeout (saying what was still missing) or the signal's reason.
 */
export function untilReady(provider: Pick<Provider, 'onChange' | 'endpoints'>, name: string, namespace: string, wait: ReadyWait): Promise<FunctionStatus> {
  const { signal } = wait;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    let latest: FunctionStatus | undefined;
    let settled = false;
    let off = () => {};
    const finish = (how: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      off();
      how();
    };
    const ready = () => provider.endpoints(name, namespace)?.length ?? 0;
    const check = () => {
      if (latest && ready() > 0 && (wait.image === undefined || sameImage(latest.image, wait.image))) {
        const status = { ...latest, availableReplicas: ready() };
        finish(() => resolve(status));
      }
    };
    const onAbort = () => finish(() => reject(signal!.reason));
    const timer = setTimeout(() => {
      const missing =
        latest && ready() > 0 ? `it still reports image ${latest.image}, not ${wait.image}` : 'it had no ready replica';
      finish(() => reject(new ProviderError('timeout', `function "${name}" in namespace "${namespace}" was not ready within ${wait.timeoutMs} ms: ${missing}`)));
    }, wait.timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    // The feed first replays what it knows (added, ready), so a function already ready settles here at once.
    off = provider.onChange((change) => {
      if (('function' in change ? change.function.name : change.name) !== name) return;
      if (('function' in change ? change.function.namespace : change.namespace) !== namespace) return;
      if (change.kind === 'removed') {
        latest = undefined;
        finish(() => reject(new ProviderError('not_found', `function "${name}" was removed from namespace "${namespace}"`)));
        return;
      }
      if (change.kind !== 'ready') latest = change.function;
      check();
    });
    if (settled) off();
    else if (!latest) finish(() => reject(new ProviderError('not_found', `function "${name}" not found in namespace "${namespace}"`)));
  });
}

export function readyRoutes(opts: { provider: Provider; defaultNamespace: string }): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  app.get('/system/function/:name/ready', async (c) => {
    const name = c.req.param('name');
    // Owners reach their own namespace only (owner-access.ts).
    const namespace = namespaceFor(c, c.req.query('namespace'), opts.defaultNamespace);
    const timeoutMs = parseReadyTimeout(c.req.query('timeout'));
    const image = c.req.query('image') || undefined;
    // A caller that hangs up stops the wait (the signal aborts when the connection closes).
    const status = await untilReady(opts.provider, name, namespace, { timeoutMs, image, signal: c.req.raw.signal });
    const { replicas, ...rest } = status;
    return c.json(replicas ? status : rest);
  });
  return app;
}
