// Custom domains: a function annotated com.gitfaas.domain: api.example.com answers every
// request whose host is api.example.com. A host belongs to one function only. The backend
// holds the annotations; this keeps the host -> function map in memory, fed by the
// provider's change feed (every gateway's writes), and reserves a host for a deploy or
// update in flight on this gateway.
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
  type ProviderFeed,
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

interface Claimant {
  fn: FunctionKey;
  /** The function's createdAt as the backend reports it: the same on every gateway. */
  since: string;
  key: string;
}

const fnKey = (fn: FunctionKey) => `${fn.namespace}/${fn.name}`;

/**
 * The host -> function map the host router reads, and the rule that a host has one holder.
 * Claims come from the functions' annotations as the provider's change feed shows them, so
 * every gateway on one backend holds the same map: another gateway's deploy is known here
 * as soon as the backend reports it, not at the next start. Should two functions claim one
 * host (two gateways deploying at the same instant), every gateway picks the same holder:
 * the earliest createdAt, then the name.
 */
export class DomainClaims {
  /** Read on the request path; changed only here. */
  readonly hosts = new Map<string, FunctionKey>();
  /** Called after every change (the host router's caches listen). */
  onChange: () => void = () => undefined;
  /** host -> the functions whose annotation names it. */
  private readonly claimants = new Map<string, Map<string, Claimant>>();
  /** function -> the host it claims. */
  private readonly claimed = new Map<string, string>();
  /** Hosts this gateway reserved for a deploy or update in flight, not yet in the feed. */
  private readonly reserved = new Map<string, FunctionKey>();

  constructor(
    readonly ownerDomain: string,
    private readonly log: Logger,
  ) {}

  /** Follows the provider's feed (its replay first: every function known now); returns the unsubscribe. */
  follow(feed: ProviderFeed): () => void {
    return feed.onChange((c) => {
      if (c.kind === 'added' || c.kind === 'changed') this.observe(c.function, c.function);
      else if (c.kind === 'removed') this.observe(c, undefined);
    });
  }

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
      this.reserved.set(host, { name: fn.name, namespace: fn.namespace });
      this.choose(host);
      this.onChange();
    }
  }

  /** Ends fn's reservations and makes the map agree with what it now is (undefined: gone). */
  settle(fn: FunctionKey, status: FunctionStatus | undefined): void {
    for (const [host, holder] of this.reserved) {
      if (holder.name === fn.name && holder.namespace === fn.namespace) {
        this.reserved.delete(host);
        this.choose(host);
      }
    }
    this.observe(fn, status);
  }

  /** What the feed says one function now is. */
  private observe(fn: FunctionKey, status: FunctionStatus | undefined): void {
    const key = fnKey(fn);
    const before = this.claimed.get(key);
    const value = status?.annotations?.[DOMAIN_ANNOTATION];
    const host = value === undefined ? undefined : this.hostOf(value, fn);
    if (before !== undefined) {
      this.claimants.get(before)?.delete(key);
      if (this.claimants.get(before)?.size === 0) this.claimants.delete(before);
      this.claimed.delete(key);
    }
    if (host !== undefined) {
      let set = this.claimants.get(host);
      if (!set) this.claimants.set(host, (set = new Map()));
      set.set(key, { fn: { name: fn.name, namespace: fn.namespace }, since: status?.createdAt ?? '', key });
      this.claimed.set(key, host);
    }
    if (before !== undefined) this.choose(before);
    if (host !== undefined && host !== before) this.choose(host);
    this.onChange();
  }

  /** Settles who holds one host: the same answer on every gateway (see the class comment). */
  private choose(host: string): void {
    let best: Claimant | undefined;
    const set = this.claimants.get(host);
    for (const c of set?.values() ?? []) {
      if (!best || c.since < best.since || (c.since === best.since && c.key < best.key)) best = c;
    }
    if (set && set.size > 1) {
      this.log.warn({ host, holder: `${best!.fn.name}.${best!.fn.namespace}`, claimants: [...set.keys()] }, 'several functions claim one custom domain; the earliest keeps it');
    }
    const holder = best?.fn ?? this.reserved.get(host);
    if (holder) this.hosts.set(host, holder);
    else this.hosts.delete(host);
  }

  private hostOf(value: string, fn: FunctionKey): string | undefined {
    try {
      return customDomain(value, this.ownerDomain);
    } catch (err) {
      this.log.warn({ fn: `${fn.name}.${fn.namespace}`, err: (err as Error).message }, 'ignoring a custom domain');
      return undefined;
    }
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
