// Reads a function's annotations through the gateway (GET /system/function/NAME?namespace=NS,
// admin basic auth), cached for a few seconds so a burst of calls to one function costs
// one lookup. A failed lookup falls back to the defaults: retries must not depend on it.
import { request, type Dispatcher } from 'undici';
import type { Logger } from '../../shared/logger.js';

type Annotations = Record<string, string> | undefined;

export class AnnotationCache {
  private readonly entries = new Map<string, { at: number; value: Promise<Annotations> }>();
  private readonly auth: string;

  constructor(
    private readonly opts: {
      gatewayUrl: string;
      user: string;
      password: string;
      ttlMs: number;
      dispatcher: Dispatcher;
      log: Logger;
    },
  ) {
    this.auth = `Basic ${Buffer.from(`${opts.user}:${opts.password}`).toString('base64')}`;
  }

  get(name: string, namespace: string): Promise<Annotations> {
    const key = `${name}.${namespace}`;
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.opts.ttlMs) return hit.value;
    const value = this.fetch(name, namespace);
    this.entries.set(key, { at: now, value });
    if (this.entries.size > 10_000) this.entries.delete(this.entries.keys().next().value as string);
    return value;
  }

  private async fetch(name: string, namespace: string): Promise<Annotations> {
    const url = `${this.opts.gatewayUrl}/system/function/${encodeURIComponent(name)}?namespace=${encodeURIComponent(namespace)}`;
    try {
      const res = await request(url, {
        headers: { authorization: this.auth },
        dispatcher: this.opts.dispatcher,
        headersTimeout: 5_000,
        bodyTimeout: 5_000,
      });
      if (res.statusCode !== 200) {
        await res.body.dump();
        if (res.statusCode !== 404) {
          this.opts.log.warn({ fn: `${name}.${namespace}`, status: res.statusCode }, 'cannot read function annotations; using default retry policy');
        }
        return undefined;
      }
      const status = (await res.body.json()) as { annotations?: Record<string, string> };
      return status.annotations ?? {};
    } catch (err) {
      this.opts.log.warn({ err, fn: `${name}.${namespace}` }, 'cannot read function annotations; using default retry policy');
      return undefined;
    }
  }
}
