// Reads a function's annotations through the gateway (GET /system/function/NAME?namespace=NS
// through the shared REST client), cached for a few seconds so a burst of calls to one
// function costs one lookup. A failed lookup falls back to the defaults: retries must not
// depend on it.
import { GatewayClient } from '../../shared/gateway-client.js';
import type { Logger } from '../../shared/logger.js';

type Annotations = Record<string, string> | undefined;

export class AnnotationCache {
  private readonly entries = new Map<string, { at: number; value: Promise<Annotations> }>();
  private readonly gateway: GatewayClient;

  constructor(
    private readonly opts: {
      gatewayUrl: string;
      user: string;
      password: string;
      ttlMs: number;
      log: Logger;
    },
  ) {
    // One quick attempt: a call waiting on its retry policy must not wait on the gateway long.
    this.gateway = new GatewayClient({ url: opts.gatewayUrl, user: opts.user, password: opts.password, passwordFile: '', timeoutMs: 5_000, retryDelaysMs: [] });
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
    try {
      const status = await this.gateway.get(name, namespace);
      return status ? (status.annotations ?? {}) : undefined;
    } catch (err) {
      this.opts.log.warn({ err, fn: `${name}.${namespace}` }, 'cannot read function annotations; using default retry policy');
      return undefined;
    }
  }
}
