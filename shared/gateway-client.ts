// The gateway's OpenFaaS REST API, as faas-cli uses it, for every service that calls it
// (the deployer, the queue-worker): deploy is PUT /system/functions (update) and POST on
// 404 (create); remove is DELETE with {functionName, namespace}; scale, secrets, get, list,
// and gitfaas's readiness hold (GET /system/function/NAME/ready, docs/api.md).
// Admin basic auth; the password is read from the gateway's state file if not given.
import { readFile } from 'node:fs/promises';
import { adminAuthHeader } from './admin-credentials.js';
import type { FunctionDeployment, FunctionStatus } from './openfaas-types.js';

export class GatewayError extends Error {
  override name = 'GatewayError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export interface GatewayClientOptions {
  url: string;
  user: string;
  password?: string;
  passwordFile: string;
  /** Per-request timeout. */
  timeoutMs?: number;
  /** Waits between attempts when the gateway cannot be reached at all; [] for one attempt. */
  retryDelaysMs?: number[];
}

/** What GET /system/function/NAME/ready answered: the status once ready, else the gateway's reason. */
export type Readiness =
  | { state: 'ready'; status: FunctionStatus }
  | { state: 'not_ready'; reason: string }
  | { state: 'unknown'; reason: string };

/** The gateway holds one readiness request at most this long (its MAX_READY_TIMEOUT_MS). */
const MAX_HOLD_MS = 10 * 60_000;
/** Beyond the hold, for the answer to travel back before the client gives up on the request. */
const HOLD_SLACK_MS = 10_000;

export class GatewayClient {
  private authHeader: string | undefined;

  constructor(private readonly options: GatewayClientOptions) {}

  private async auth(): Promise<string> {
    if (this.authHeader) return this.authHeader;
    let password = this.options.password;
    if (!password) {
      try {
        password = (await readFile(this.options.passwordFile, 'utf8')).trim();
      } catch (err) {
        throw new Error(
          `no gateway admin password: set GITFAAS_ADMIN_PASSWORD or GITFAAS_ADMIN_PASSWORD_FILE, or let the gateway generate ${this.options.passwordFile}`,
          { cause: err },
        );
      }
    }
    this.authHeader = adminAuthHeader(this.options.user, password);
    return this.authHeader;
  }

  /**
   * One API call. A gateway that cannot be reached (restarting, say) is retried with
   * backoff for about 15 s before the deploy is given up; HTTP answers are never retried
   * here (PUT/POST are not idempotent enough to repeat blindly).
   */
  private async call(method: string, path: string, body?: unknown, overrides: { timeoutMs?: number; retryDelaysMs?: number[] } = {}): Promise<Response> {
    const headers: Record<string, string> = { authorization: await this.auth() };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const delays = overrides.retryDelaysMs ?? this.options.retryDelaysMs ?? [500, 1000, 2000, 4000, 8000];
    for (let attempt = 0; ; attempt++) {
      try {
        return await fetch(`${this.options.url}${path}`, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(overrides.timeoutMs ?? this.options.timeoutMs ?? 60_000),
        });
      } catch (err) {
        const cause = (err as Error & { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
        if (attempt >= delays.length || (err as Error).name === 'TimeoutError') {
          throw new GatewayError(`gateway ${this.options.url} unreachable (${method} ${path}: ${cause})`, 0);
        }
        await new Promise((resolve) => setTimeout(resolve, delays[attempt]));
      }
    }
  }

  private async fail(res: Response, what: string): Promise<never> {
    const text = (await res.text().catch(() => '')).trim();
    throw new GatewayError(`${what}: gateway answered ${res.status}${text ? ` ${text}` : ''}`, res.status);
  }

  /** Updates the function, or creates it when the gateway does not know it (as faas-cli). */
  async deploy(deployment: FunctionDeployment & { namespace: string }): Promise<'updated' | 'created'> {
    const put = await this.call('PUT', '/system/functions', deployment);
    if (put.ok) {
      await put.body?.cancel();
      return 'updated';
    }
    if (put.status !== 404) return this.fail(put, `update ${deployment.service}.${deployment.namespace}`);
    await put.body?.cancel();
    const post = await this.call('POST', '/system/functions', deployment);
    if (post.ok) {
      await post.body?.cancel();
      return 'created';
    }
    return this.fail(post, `create ${deployment.service}.${deployment.namespace}`);
  }

  async list(namespace: string): Promise<FunctionStatus[]> {
    const res = await this.call('GET', `/system/functions?namespace=${encodeURIComponent(namespace)}`);
    if (!res.ok) return this.fail(res, `list functions in ${namespace}`);
    return (await res.json()) as FunctionStatus[];
  }

  async get(name: string, namespace: string): Promise<FunctionStatus | undefined> {
    const res = await this.call('GET', `/system/function/${encodeURIComponent(name)}?namespace=${encodeURIComponent(namespace)}&usage=1`);
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    if (!res.ok) return this.fail(res, `get ${name}.${namespace}`);
    return (await res.json()) as FunctionStatus;
  }

  /**
   * Holds until the function has a ready replica reporting `image` (when given), at most
   * `timeoutMs`: the gateway answers as soon as its provider's feed says so, nothing polls.
   * A gateway that is restarting (unreachable, or 503 while its provider is unavailable) is
   * asked again a few times within the same deadline; then the last problem is thrown.
   */
  async waitReady(name: string, namespace: string, wait: { timeoutMs: number; image?: string }): Promise<Readiness> {
    const deadline = Date.now() + wait.timeoutMs;
    const delays = this.options.retryDelaysMs ?? [500, 1000, 2000, 4000, 8000];
    for (let attempt = 0; ; attempt++) {
      const hold = Math.max(1, Math.min(deadline - Date.now(), MAX_HOLD_MS));
      const query = new URLSearchParams({ namespace, timeout: `${hold}ms`, ...(wait.image ? { image: wait.image } : {}) });
      const path = `/system/function/${encodeURIComponent(name)}/ready?${query}`;
      let problem: GatewayError;
      try {
        // One attempt per request: a retry is asked with the time left, not the whole timeout again.
        const res = await this.call('GET', path, undefined, { timeoutMs: hold + HOLD_SLACK_MS, retryDelaysMs: [] });
        if (res.ok) return { state: 'ready', status: (await res.json()) as FunctionStatus };
        const text = (await res.text().catch(() => '')).trim();
        if (res.status === 404) return { state: 'unknown', reason: text };
        // A hold shortened to MAX_HOLD_MS ends before the caller's deadline: hold again.
        if (res.status === 504 && deadline - Date.now() > 0 && hold === MAX_HOLD_MS) continue;
        if (res.status === 504) return { state: 'not_ready', reason: text };
        problem = new GatewayError(`wait for ${name}.${namespace} to be ready: gateway answered ${res.status}${text ? ` ${text}` : ''}`, res.status);
        if (res.status !== 503) throw problem;
      } catch (err) {
        if (!(err instanceof GatewayError) || (err.status !== 0 && err.status !== 503)) throw err;
        problem = err;
      }
      if (attempt >= delays.length || Date.now() + delays[attempt] >= deadline) throw problem;
      await new Promise((resolve) => setTimeout(resolve, delays[attempt]));
    }
  }

  /** Sets a function's replica count (POST /system/scale-function/NAME). */
  async scale(name: string, namespace: string, replicas: number): Promise<void> {
    const res = await this.call('POST', `/system/scale-function/${encodeURIComponent(name)}`, { serviceName: name, namespace, replicas });
    if (res.ok) {
      await res.body?.cancel();
      return;
    }
    return this.fail(res, `scale ${name}.${namespace} to ${replicas}`);
  }

  /** The names of the secrets in a namespace (the gateway never returns values). */
  async secretNames(namespace: string): Promise<string[]> {
    const res = await this.call('GET', `/system/secrets?namespace=${encodeURIComponent(namespace)}`);
    if (!res.ok) return this.fail(res, `list secrets in ${namespace}`);
    return ((await res.json()) as { name: string }[]).map((s) => s.name);
  }

  /** Removes a function; one that is already gone counts as removed. */
  async remove(name: string, namespace: string): Promise<void> {
    const res = await this.call('DELETE', '/system/functions', { functionName: name, namespace });
    if (res.ok || res.status === 404) {
      await res.body?.cancel();
      return;
    }
    return this.fail(res, `remove ${name}.${namespace}`);
  }

  /** Calls the function once (GET, no credentials, as a user would); returns the status. */
  async probe(name: string, namespace: string): Promise<number> {
    try {
      const res = await fetch(`${this.options.url}/function/${name}.${namespace}`, { signal: AbortSignal.timeout(10_000) });
      await res.body?.cancel();
      return res.status;
    } catch {
      return 0;
    }
  }
}
