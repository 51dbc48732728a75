// The in-memory picture of every gitfaas container, rebuilt from Docker at start and kept
// fresh by Docker's event stream. It answers the proxy's hot path (ready endpoints) without
// calling Docker, probes replicas before they get traffic, and starts again a replica that
// died on its own. Docker stays the source of truth: this is only a cache of it.
import type Docker from 'dockerode';
import type { Logger } from '../../../../shared/logger.js';
import * as L from './labels.js';
import type { Endpoint } from '../provider.js';
import { waitUntilAnswers } from '../readiness.js';

export interface Replica {
  id: string;
  name: string;
  namespace: string;
  generation: number;
  role: L.Role;
  running: boolean;
  ready: boolean;
  url?: string;
  info?: Docker.ContainerInspectInfo;
  /** Set once gitfaas decided to remove it: no traffic, no restart. */
  leaving: boolean;
  restarts: number;
  /** Exit code of the last time it died, from Docker's die event. */
  exitCode?: number;
  /**
   * Kept at zero (keep.ts): paused or stopped, no traffic, no restart, not counted as
   * desired. Docker's record of it: paused, or stopped beside a parked container.
   */
  kept?: 'paused' | 'stopped';
}

export interface FunctionReplicas {
  replicas: Map<string, Replica>;
  /** Ready replicas; replaced (never mutated) on every change, so readers hold a snapshot. */
  endpoints: readonly Endpoint[];
}

const key = (name: string, namespace: string) => `${namespace}/${name}`;

export class ReplicaCache {
  private readonly functions = new Map<string, FunctionReplicas>();
  private readonly byId = new Map<string, Replica>();
  private readonly probing = new Map<string, Promise<boolean>>();
  private events?: NodeJS.ReadableStream;
  private closed = false;
  private resyncTimer?: NodeJS.Timeout;

  constructor(
    private readonly docker: Docker,
    private readonly log: Logger,
    private readonly functionHost: string,
    /** Only this instance's containers are listed, watched and restarted. */
    private readonly instance: string,
    /** Told, synchronously, whenever anything about a function's replicas changed (the change feed listens). */
    private readonly touched: (name: string, namespace: string) => void = () => undefined,
  ) {}

  /** Reads every gitfaas container from Docker, then follows Docker's events. */
  async start(): Promise<void> {
    await this.watch();
    await this.sync();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.resyncTimer);
    (this.events as unknown as { destroy?: () => void } | undefined)?.destroy?.();
  }

  get(name: string, namespace: string): FunctionReplicas | undefined {
    return this.functions.get(key(name, namespace));
  }

  all(): IterableIterator<FunctionReplicas> {
    return this.functions.values();
  }

  replica(id: string): Replica | undefined {
    return this.byId.get(id);
  }

  /** Records a container gitfaas just created (the create event may come later). */
  async add(id: string): Promise<Replica | undefined> {
    const existing = this.byId.get(id);
    if (existing?.info) return existing;
    let info: Docker.ContainerInspectInfo;
    try {
      info = await this.docker.getContainer(id).inspect();
    } catch {
      return undefined;
    }
    return this.record(info);
  }

  /** Takes a replica out of traffic now, and keeps it from being restarted. */
  leave(id: string): void {
    const replica = this.byId.get(id);
    if (!replica) return;
    replica.leaving = true;
    replica.ready = false;
    this.refresh(replica);
  }

  /**
   * Probes a started replica until it answers, then gives it traffic. Resolves false when
   * it stopped, left or missed the deadline. One probe per container at a time.
   */
  ready(id: string, deadline?: number): Promise<boolean> {
    let probe = this.probing.get(id);
    if (!probe) {
      probe = this.probe(id).finally(() => this.probing.delete(id));
      this.probing.set(id, probe);
    }
    if (deadline === undefined) return probe;
    return Promise.race([probe, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), Math.max(0, deadline - Date.now())).unref())]);
  }

  private async probe(id: string): Promise<boolean> {
    let info: Docker.ContainerInspectInfo;
    try {
      info = await this.docker.getContainer(id).inspect();
    } catch {
      return false;
    }
    const replica = this.record(info);
    if (!replica || replica.role !== 'replica' || !replica.running || !replica.url) return false;
    const url = replica.url;
    const ok = await waitUntilAnswers(url, {
      alive: () => !this.closed && replica.running && !replica.leaving && replica.url === url && this.byId.get(id) === replica,
    });
    if (!ok) return false;
    replica.ready = true;
    replica.restarts = 0;
    this.refresh(replica);
    this.log.debug({ fn: `${replica.name}.${replica.namespace}`, container: replica.id.slice(0, 12), url: replica.url }, 'replica ready');
    return true;
  }

  private record(info: Docker.ContainerInspectInfo): Replica | undefined {
    const labels = info.Config.Labels ?? {};
    if (labels[L.MANAGED] !== 'true' || !labels[L.FUNCTION] || !labels[L.NAMESPACE]) return undefined;
    const port = info.NetworkSettings?.Ports?.[L.FUNCTION_PORT]?.find((b) => b.HostIp === this.functionHost || b.HostIp === '127.0.0.1')?.HostPort;
    const replica: Replica = this.byId.get(info.Id) ?? {
      id: info.Id,
      name: labels[L.FUNCTION],
      namespace: labels[L.NAMESPACE],
      generation: Number(labels[L.GENERATION]) || 0,
      role: labels[L.ROLE] === 'parked' ? 'parked' : 'replica',
      running: false,
      ready: false,
      leaving: false,
      restarts: 0,
      ...(info.State.Paused ? { kept: 'paused' as const } : {}),
    };
    replica.info = info;
    replica.running = info.State.Running && !info.State.Restarting && !info.State.Paused;
    replica.url = replica.running && port ? `http://${this.functionHost}:${port}` : undefined;
    if (!replica.running) replica.ready = false;
    this.byId.set(info.Id, replica);
    let fn = this.functions.get(key(replica.name, replica.namespace));
    if (!fn) {
      fn = { replicas: new Map(), endpoints: [] };
      this.functions.set(key(replica.name, replica.namespace), fn);
    }
    fn.replicas.set(replica.id, replica);
    this.refresh(replica);
    return replica;
  }

  private refresh(replica: Replica): void {
    const fn = this.functions.get(key(replica.name, replica.namespace));
    if (!fn) return;
    const endpoints: Endpoint[] = [];
    for (const r of fn.replicas.values()) {
      if (r.ready && !r.leaving && !r.kept && r.running && r.url && r.role === 'replica') endpoints.push({ id: r.id, url: r.url });
    }
    fn.endpoints = endpoints;
    this.touched(replica.name, replica.namespace);
  }

  /** Forgets a container gitfaas removed (its destroy event may come later). */
  drop(id: string): void {
    const replica = this.byId.get(id);
    if (!replica) return;
    this.byId.delete(id);
    const k = key(replica.name, replica.namespace);
    const fn = this.functions.get(k);
    if (!fn) return;
    fn.replicas.delete(id);
    if (fn.replicas.size === 0) {
      this.functions.delete(k);
      this.touched(replica.name, replica.namespace);
    } else this.refresh(replica);
  }

  /** Rebuilds the picture from Docker; starts again replicas found stopped. */
  async sync(): Promise<void> {
    const containers = await this.docker.listContainers({ all: true, filters: { label: L.instanceFilter(this.instance) } });
    const seen = new Set(containers.map((c) => c.Id));
    for (const id of [...this.byId.keys()]) if (!seen.has(id)) this.drop(id);
    const added = await Promise.all(containers.map((c) => this.add(c.Id)));
    this.markKept();
    for (const replica of added) {
      if (!replica || replica.role !== 'replica' || replica.leaving || replica.kept) continue;
      if (replica.running) void this.ready(replica.id);
      else this.restartLater(replica);
    }
  }

  /** A stopped replica beside a parked container of its generation was kept at zero (keep.ts), not crashed. */
  private markKept(): void {
    for (const fn of this.functions.values()) {
      const parked = new Set<number>();
      for (const r of fn.replicas.values()) if (r.role === 'parked') parked.add(r.generation);
      for (const r of fn.replicas.values()) if (r.role === 'replica' && !r.running && !r.kept && parked.has(r.generation)) r.kept = 'stopped';
    }
  }

  /** Takes a replica out of traffic and keeps it from being restarted: it is being kept at zero. */
  keep(id: string, as: 'paused' | 'stopped'): void {
    const replica = this.byId.get(id);
    if (!replica) return;
    replica.kept = as;
    replica.ready = false;
    this.refresh(replica);
  }

  /** A kept replica counts again; it gets traffic once `ready` has probed it. */
  unkeep(id: string): void {
    const replica = this.byId.get(id);
    if (replica) replica.kept = undefined;
  }

  private async watch(): Promise<void> {
    const stream = (await this.docker.getEvents({
      filters: { type: ['container'], label: L.instanceFilter(this.instance), event: ['create', 'start', 'die', 'destroy', 'pause', 'unpause'] },
    })) as NodeJS.ReadableStream;
    this.events = stream;
    let buffer = '';
    stream.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.trim()) this.onEvent(line);
      }
    });
    const reconnect = (err?: Error) => {
      if (this.closed || this.events !== stream) return;
      this.events = undefined;
      this.log.warn({ err }, 'docker event stream ended; reconnecting');
      this.resyncTimer = setTimeout(() => {
        this.watch()
          .then(() => this.sync())
          .catch((e) => reconnect(e as Error));
      }, 1000);
    };
    stream.on('error', reconnect);
    stream.on('end', () => reconnect());
  }

  private onEvent(line: string): void {
    let event: { Action?: string; status?: string; id?: string; Actor?: { ID?: string; Attributes?: Record<string, string> } };
    try {
      event = JSON.parse(line);
    } catch {
      return;
    }
    const id = event.Actor?.ID ?? event.id;
    const action = event.Action ?? event.status;
    if (!id) return;
    if (action === 'create') void this.add(id);
    else if (action === 'start' || action === 'unpause') void this.onStart(id);
    else if (action === 'die') this.onDie(id, Number(event.Actor?.Attributes?.exitCode));
    else if (action === 'pause') this.onPause(id);
    else if (action === 'destroy') this.drop(id);
  }

  /**
   * Paused: kept at zero, by this gateway (already marked) or another one sharing the engine,
   * whose scale-down this gateway learns here: no traffic to it, not counted as desired.
   */
  private onPause(id: string): void {
    const replica = this.byId.get(id);
    if (!replica || replica.role !== 'replica') return;
    replica.kept ??= 'paused';
    replica.running = false;
    replica.ready = false;
    this.refresh(replica);
  }

  /**
   * A (re)started or unpaused replica is probed afresh: its port may have changed. One kept
   * at zero that starts again was woken (here, or by another gateway): it counts again.
   */
  private async onStart(id: string): Promise<void> {
    const replica = this.byId.get(id);
    if (replica?.kept) replica.kept = undefined;
    const earlier = this.probing.get(id);
    if (earlier) await earlier;
    if (!this.byId.get(id)?.ready) await this.ready(id);
  }

  private onDie(id: string, exitCode: number): void {
    const replica = this.byId.get(id);
    if (!replica) return;
    if (Number.isInteger(exitCode)) replica.exitCode = exitCode;
    replica.running = false;
    replica.ready = false;
    this.refresh(replica);
    if (replica.leaving || replica.kept || replica.role !== 'replica' || this.closed) return;
    // Stopped beside a parked container: another gateway kept it at zero (keep.ts), not a crash.
    this.markKept();
    if (replica.kept) return void this.refresh(replica);
    this.restartLater(replica);
  }

  /** A replica that died on its own is started again, with a growing back-off. */
  private restartLater(replica: Replica): void {
    const delay = Math.min(30_000, 250 * 2 ** replica.restarts);
    replica.restarts += 1;
    setTimeout(() => {
      // The parked container of a scale to zero elsewhere may have been recorded since the die.
      this.markKept();
      if (this.closed || replica.leaving || replica.kept || this.byId.get(replica.id) !== replica || replica.running) return;
      this.log.warn({ fn: `${replica.name}.${replica.namespace}`, container: replica.id.slice(0, 12), delay }, 'replica stopped; starting it again');
      this.docker
        .getContainer(replica.id)
        .start()
        .catch((err: { statusCode?: number }) => {
          // 304: already running; 404 or 409 "marked for removal": another gateway (or gateway
          // process) removed it on purpose, e.g. scaling down; its destroy event follows.
          if (err.statusCode === 304 || err.statusCode === 404) return;
          if (err.statusCode === 409) return void this.log.debug({ container: replica.id.slice(0, 12) }, 'replica being removed elsewhere; not started again');
          this.log.error({ err, container: replica.id.slice(0, 12) }, 'could not start replica again');
          this.restartLater(replica);
        });
    }, delay).unref();
  }
}
