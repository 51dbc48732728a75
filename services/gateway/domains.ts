// Custom domains: a function annotated com.gitfaas.domain: api.example.com answers every
// request whose host is api.example.com. A host belongs to one function only. Docker holds
// the annotations; this keeps the host -> function map in memory, rebuilt from the provider
// at start and after every deploy, update and remove that goes through this gateway.
import { isDnsLabel } from '../../shared/names.js';
import type { Logger } from '../../shared/logger.js';
import {
  ProviderError,
  type Endpoint,
  type FunctionChange,
  type FunctionStatus,
  type LogMessage,
  type LogRequest,
  type NamespacedDeployment,
  type Provider,
  type Secret,
} from './providers/provider.js';

export const DOMAIN_ANNOTATION = 'com.gitfaas.domain';

export interface FunctionKey {
  name: string;
  namespace: string;
}

/**
 * The host a domain annotation names, lower-cased; a ProviderError('invalid') when it is not
 * a DNS hostname of two labels or more, is an IP address, localhost, or the owner-subdomain
 * domain or a name under it (owner subdomains cannot be taken over).
 */
export function customDomain(value: string, ownerDomain: string): string {
  const host = value.trim().toLowerCase();
  const bad = (why: string) => new ProviderError('invalid', `annotation ${DOMAIN_ANNOTATION} "${value}" ${why}`);
  const labels = host.split('.');
  if (host.length > 253 || labels.length < 2 || !labels.every(isDnsLabel)) {
    throw bad('is not a DNS host name such as api.example.com (no scheme, port or path)');
  }
  if (/^[0-9]+$/.test(labels.at(-1)!)) throw bad('is an IP address; a custom domain must be a host name');
  if (host === 'localhost' || host.endsWith('.localhost')) throw bad('is localhost; a custom domain must be a public host name');
  if (host === ownerDomain || host.endsWith(`.${ownerDomain}`)) {
    throw bad(`is ${ownerDomain} or under it, where owner subdomains live`);
  }
  return host;
}

/** The host -> function map the host router reads, and the rule that a host has one holder. */
export class DomainClaims {
  /** Read on the request path; changed only here. */
  readonly hosts = new Map<string, FunctionKey>();
  /** Called after every change (the host router's caches listen). */
  onChange: () => void = () => undefined;

  constructor(
    readonly ownerDomain: string,
    private readonly log: Logger,
  ) {}

  /** The host a deployment claims, validated; undefined without the annotation. */
  claimOf(d: NamespacedDeployment): string | undefined {
    const value = d.annotations?.[DOMAIN_ANNOTATION];
    return value === undefined ? undefined : customDomain(value, this.ownerDomain);
  }

  /** Reserves host for fn, or throws conflict naming the function holding it. Synchronous: check and take are one step. */
  take(host: string, fn: FunctionKey): void {
    const holder = this.hosts.get(host);
    if (holder && (holder.name !== fn.name || holder.namespace !== fn.namespace)) {
      throw new ProviderError('conflict', `domain ${host} is held by ${holder.name}.${holder.namespace}`);
    }
    if (!holder) {
      this.hosts.set(host, { name: fn.name, namespace: fn.namespace });
      this.onChange();
    }
  }

  /** Makes the map agree with what a function now is (status undefined: it is gone). */
  settle(fn: FunctionKey, status: FunctionStatus | undefined): void {
    for (const [host, holder] of this.hosts) {
      if (holder.name === fn.name && holder.namespace === fn.namespace) this.hosts.delete(host);
    }
    const value = status?.annotations?.[DOMAIN_ANNOTATION];
    if (value !== undefined) this.record(value, fn);
    this.onChange();
  }

  /** Rebuilds the whole map from every function the provider runs. */
  async rebuild(provider: Provider): Promise<void> {
    this.hosts.clear();
    for (const namespace of await provider.namespaces()) {
      for (const fn of await provider.list(namespace)) {
        const value = fn.annotations?.[DOMAIN_ANNOTATION];
        if (value !== undefined) this.record(value, fn);
      }
    }
    this.onChange();
  }

  private record(value: string, fn: FunctionKey): void {
    let host: string;
    try {
      host = customDomain(value, this.ownerDomain);
    } catch (err) {
      this.log.warn({ fn: `${fn.name}.${fn.namespace}`, err: (err as Error).message }, 'ignoring a custom domain');
      return;
    }
    const holder = this.hosts.get(host);
    if (holder && (holder.name !== fn.name || holder.namespace !== fn.namespace)) {
      this.log.warn({ host, holder: `${holder.name}.${holder.namespace}`, fn: `${fn.name}.${fn.namespace}` }, 'two functions claim one custom domain; the first keeps it');
      return;
    }
    this.hosts.set(host, { name: fn.name, namespace: fn.namespace });
  }
}

/**
 * A provider whose deploy and update refuse a custom domain another function holds (409,
 * nothing created or changed), and which keeps the claims current. Everything else passes
 * straight through.
 */
export class ClaimingProvider implements Provider {
  readonly info;
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    private readonly inner: Provider,
    private readonly claims: DomainClaims,
  ) {
    this.info = inner.info;
  }

  health(): { ok: boolean; reason?: string } {
    return this.inner.health?.() ?? { ok: true };
  }

  deploy(d: NamespacedDeployment): Promise<void> {
    return this.changing(d, () => this.inner.deploy(d));
  }

  update(d: NamespacedDeployment): Promise<void> {
    return this.changing(d, () => this.inner.update(d));
  }

  remove(name: string, namespace: string): Promise<void> {
    return this.serial(name, namespace, async () => {
      try {
        await this.inner.remove(name, namespace);
      } finally {
        this.claims.settle({ name, namespace }, await this.inner.get(name, namespace));
      }
    });
  }

  /** Claim, change, settle: the claim is taken before anything is created. */
  private changing(d: NamespacedDeployment, work: () => Promise<void>): Promise<void> {
    const fn = { name: d.service, namespace: d.namespace };
    return this.serial(d.service, d.namespace, async () => {
      const host = this.claims.claimOf(d);
      if (host) this.claims.take(host, fn);
      try {
        await work();
      } finally {
        this.claims.settle(fn, await this.inner.get(d.service, d.namespace));
      }
    });
  }

  /** Changes to one function run one at a time, so settling one never drops another's reservation. */
  private serial(name: string, namespace: string, work: () => Promise<void>): Promise<void> {
    const key = `${namespace}/${name}`;
    const run = (this.queues.get(key) ?? Promise.resolve()).then(work);
    const tail = run.catch(() => undefined);
    this.queues.set(key, tail);
    void tail.then(() => this.queues.get(key) === tail && this.queues.delete(key));
    return run;
  }

  get(name: string, namespace: string): Promise<FunctionStatus | undefined> {
    return this.inner.get(name, namespace);
  }
  list(namespace: string): Promise<FunctionStatus[]> {
    return this.inner.list(namespace);
  }
  namespaces(): Promise<string[]> {
    return this.inner.namespaces();
  }
  scale(name: string, namespace: string, replicas: number): Promise<void> {
    return this.inner.scale(name, namespace, replicas);
  }
  endpoints(name: string, namespace: string): readonly Endpoint[] | undefined {
    return this.inner.endpoints(name, namespace);
  }
  onChange(listener: (change: FunctionChange) => void): () => void {
    return this.inner.onChange(listener);
  }
  waitUntilReady(name: string, namespace: string, options: { timeoutMs: number; signal?: AbortSignal }): Promise<readonly Endpoint[]> {
    return this.inner.waitUntilReady(name, namespace, options);
  }
  logs(request: LogRequest): AsyncIterable<LogMessage> {
    return this.inner.logs(request);
  }
  listSecrets(namespace: string): Promise<Secret[]> {
    return this.inner.listSecrets(namespace);
  }
  createSecret(secret: Secret): Promise<void> {
    return this.inner.createSecret(secret);
  }
  updateSecret(secret: Secret): Promise<void> {
    return this.inner.updateSecret(secret);
  }
  removeSecret(name: string, namespace: string): Promise<void> {
    return this.inner.removeSecret(name, namespace);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
