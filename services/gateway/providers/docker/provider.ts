// The Docker provider: each replica of a function is a container labelled with the function,
// its namespace and gitfaas's marker, publishing port 8080 on 127.0.0.1. Docker holds all
// state; ReplicaCache mirrors it in memory for the proxy's hot path.
import path from 'node:path';
import Docker from 'dockerode';
import type { Logger } from '../../../../shared/logger.js';
import { dockerEngine } from '../../../../shared/docker-engine.js';
import * as L from './labels.js';
import { ensureImage } from './image.js';
import { containerLogs } from './logs.js';
import { crashExcerpt, demuxDockerLog } from './crash-output.js';
import { keepReplica, resumeReplica, type KeepMode } from './keep.js';
import { ReplicaCache, type Replica } from './replicas.js';
import { SecretStore } from './secrets.js';
import { cloneOptions, createOptions, initialReplicas, validateDeployment } from './spec.js';
import { desired, generationNow, newest, notFound, status } from './status.js';
import { ChangeFeed } from '../change-feed.js';
import {
  ProviderError,
  type Endpoint,
  type FunctionChange,
  type FunctionStatus,
  type LogMessage,
  type LogRequest,
  type NamespacedDeployment,
  type Provider,
  type ProviderInfo,
  type Secret,
} from '../provider.js';

export interface DockerProviderOptions {
  log: Logger;
  docker?: Docker;
  socketPath?: string;
  /** Host address function ports are published on (127.0.0.1). */
  functionHost: string;
  /** Containers are labelled com.gitfaas.instance=<instance>; other instances' are never seen. Default "default". */
  instance?: string;
  /** Secrets live in <stateDir>/secrets. */
  stateDir: string;
  /** How long a new replica may take to answer before deploy/update/scale fails. */
  startTimeoutMs: number;
  maxReplicas: number;
  /** How long to wait for in-flight requests on a leaving replica before stopping it. */
  drainTimeoutMs: number;
  /** True when no request is in flight to an endpoint (the proxy knows); drains leaving replicas. */
  isIdle?: (endpointId: string) => boolean;
  /** What scaling to zero keeps (GITFAAS_ZERO_KEEP, keep.ts); default removed. */
  keep?: KeepMode;
}

export class DockerProvider implements Provider {
  readonly info: ProviderInfo = { name: 'gitfaas-docker', orchestration: 'docker', version: '0.1.0' };
  private readonly docker: Docker;
  private readonly cache: ReplicaCache;
  private readonly secrets: SecretStore;
  private readonly feed: ChangeFeed;
  private readonly locks = new Map<string, Promise<unknown>>();
  /**
   * What the last replica of a function that failed to start printed (the container itself is
   * removed), so /system/logs still shows why. Kept in this process only, until the
   * function is removed or a later crash replaces it.
   */
  private readonly crashes = new Map<string, LogMessage[]>();

  private constructor(private readonly opts: DockerProviderOptions) {
    this.docker = opts.docker ?? dockerEngine(opts.socketPath);
    this.feed = new ChangeFeed(
      (name, namespace) => this.endpoints(name, namespace),
      (err) => opts.log.error({ err }, 'a change-feed listener failed'),
    );
    // Every change to the cache (this gateway's writes and Docker's events: another gateway
    // on the engine, a replica dying or coming back) reaches the feed.
    this.cache = new ReplicaCache(this.docker, opts.log, opts.functionHost, opts.instance ?? 'default', (name, namespace) => {
      const fn = this.cache.get(name, namespace);
      this.feed.observe(name, namespace, fn && status(fn));
    });
    this.secrets = new SecretStore(path.join(opts.stateDir, 'secrets'));
  }

  /** Connects to Docker and rebuilds the picture of every function from its containers. */
  static async start(opts: DockerProviderOptions): Promise<DockerProvider> {
    const provider = new DockerProvider(opts);
    try {
      await provider.docker.ping();
    } catch (err) {
      throw new Error(`cannot reach Docker at ${opts.socketPath ?? '/var/run/docker.sock'} (${(err as Error).message}): start dockerd or set GITFAAS_DOCKER_SOCKET`, { cause: err });
    }
    await provider.cache.start();
    provider.finishInterruptedUpdates();
    return provider;
  }

  /**
   * A gateway stopped in the middle of an update leaves two generations of a function. Once
   * the newest answers, the older ones go (roll forward); if it never does, it goes instead
   * (roll back).
   */
  private finishInterruptedUpdates(): void {
    for (const fn of this.cache.all()) {
      const generation = newest(fn);
      const all = [...fn.replicas.values()];
      if (!all.some((r) => r.generation < generation)) continue;
      const { name, namespace } = all[0];
      void this.locked(name, namespace, async () => {
        const fresh = [...fn.replicas.values()].filter((r) => r.generation === generation);
        const older = [...fn.replicas.values()].filter((r) => r.generation < generation);
        const serving = fresh.filter((r) => r.role === 'replica');
        const deadline = Date.now() + this.opts.startTimeoutMs;
        const ok = serving.length === 0 || (await Promise.all(serving.map((r) => this.cache.ready(r.id, deadline)))).some(Boolean);
        this.opts.log.warn({ fn: `${name}.${namespace}`, rollForward: ok }, 'finishing an interrupted update');
        await this.retire(ok ? older : fresh);
      }).catch((err) => this.opts.log.error({ err, fn: `${name}.${namespace}` }, 'could not finish an interrupted update'));
    }
  }

  async close(): Promise<void> {
    this.feed.close();
    await this.cache.close();
  }

  onChange(listener: (change: FunctionChange) => void): () => void {
    return this.feed.onChange(listener);
  }

  waitUntilReady(name: string, namespace: string, options: { timeoutMs: number; signal?: AbortSignal }): Promise<readonly Endpoint[]> {
    return this.feed.waitUntilReady(name, namespace, options);
  }

  endpoints(name: string, namespace: string): readonly Endpoint[] | undefined {
    return this.cache.get(name, namespace)?.endpoints;
  }

  deploy(d: NamespacedDeployment): Promise<void> {
    return this.locked(d.service, d.namespace, async () => {
      validateDeployment(d);
      const replicas = initialReplicas(d, this.opts.maxReplicas);
      if (this.cache.get(d.service, d.namespace)) {
        throw new ProviderError('conflict', `function "${d.service}" already exists in namespace "${d.namespace}"; update it with PUT`);
      }
      await this.checkSecrets(d);
      await ensureImage(this.docker, d.image, this.opts.log);
      await this.launch(d, generationNow(), replicas);
    });
  }

  update(d: NamespacedDeployment): Promise<void> {
    return this.locked(d.service, d.namespace, async () => {
      validateDeployment(d);
      const fn = this.cache.get(d.service, d.namespace);
      if (!fn) throw notFound(d.service, d.namespace);
      await this.checkSecrets(d);
      await ensureImage(this.docker, d.image, this.opts.log);
      const old = [...fn.replicas.values()];
      const replicas = desired(fn);
      // New replicas answer before the old ones leave: no request is refused meanwhile.
      await this.launch(d, Math.max(generationNow(), newest(fn) + 1), replicas);
      await this.retire(old);
    });
  }

  remove(name: string, namespace: string): Promise<void> {
    this.crashes.delete(`${namespace}/${name}`);
    return this.locked(name, namespace, async () => {
      const fn = this.cache.get(name, namespace);
      if (!fn) throw notFound(name, namespace);
      const all = [...fn.replicas.values()];
      for (const r of all) this.cache.leave(r.id);
      await Promise.all(all.map((r) => this.destroy(r.id)));
    });
  }

  scale(name: string, namespace: string, replicas: number): Promise<void> {
    return this.locked(name, namespace, async () => {
      if (!Number.isInteger(replicas) || replicas < 0 || replicas > this.opts.maxReplicas) {
        throw new ProviderError('invalid', `replicas must be a whole number from 0 to ${this.opts.maxReplicas}, got ${replicas}`);
      }
      const fn = this.cache.get(name, namespace);
      if (!fn) throw notFound(name, namespace);
      const generation = newest(fn);
      const current = [...fn.replicas.values()].filter((r) => r.generation === generation && !r.leaving);
      const running = current.filter((r) => r.role === 'replica' && !r.kept);
      const kept = current.filter((r) => r.role === 'replica' && r.kept);
      const parked = current.filter((r) => r.role === 'parked');
      const template = (running[0] ?? kept[0] ?? parked[0])?.info;
      if (!template) throw new ProviderError('unavailable', `function "${name}" in namespace "${namespace}" has no container to copy`);
      if (replicas > running.length) {
        // Kept replicas come back first (far faster than new ones); a broken one is replaced.
        const need = replicas - running.length;
        const deadline = Date.now() + this.opts.startTimeoutMs;
        const resumed = await Promise.all(kept.slice(0, need).map((r) => resumeReplica(this.docker, this.cache, r, deadline)));
        const broken = kept.slice(0, need).filter((_, i) => !resumed[i]);
        await this.startReplicas(Array.from({ length: need - resumed.filter(Boolean).length }, () => cloneOptions(template, 'replica')));
        await this.retire([...parked, ...broken, ...kept.slice(need)]);
      } else if (replicas < running.length) {
        // Replicas not yet serving go first.
        const extra = running.sort((a, b) => Number(a.ready) - Number(b.ready)).slice(0, running.length - replicas);
        if (replicas === 0) {
          await this.createContainer(cloneOptions(template, 'parked'));
          const keep = this.opts.keep ?? 'removed';
          const last = extra.pop();
          if (last && (keep === 'removed' || !(await this.keep(last, keep)))) extra.push(last);
        }
        await this.retire(extra);
      }
    });
  }

  async get(name: string, namespace: string): Promise<FunctionStatus | undefined> {
    const fn = this.cache.get(name, namespace);
    return fn ? status(fn) : undefined;
  }

  async list(namespace: string): Promise<FunctionStatus[]> {
    const out: FunctionStatus[] = [];
    for (const fn of this.cache.all()) {
      const s = status(fn);
      if (s && s.namespace === namespace) out.push(s);
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  async namespaces(): Promise<string[]> {
    const set = new Set<string>();
    for (const fn of this.cache.all()) for (const r of fn.replicas.values()) set.add(r.namespace);
    return [...set].sort();
  }

  async *logs(request: LogRequest): AsyncIterable<LogMessage> {
    if (!this.cache.get(request.name, request.namespace)) throw notFound(request.name, request.namespace);
    const current = () => {
      const fn = this.cache.get(request.name, request.namespace);
      if (!fn) return undefined;
      // Following, only running replicas are read (a stopped one joins again when it restarts).
      const running = [...fn.replicas.values()].filter((r) => r.role === 'replica' && (!request.follow || (r.running && !r.leaving)));
      return running.map((r) => ({ id: r.id, name: r.info?.Name.replace(/^\//, '') ?? r.id.slice(0, 12) }));
    };
    const since = request.since?.toISOString();
    for (const message of this.crashes.get(`${request.namespace}/${request.name}`) ?? []) {
      if (!since || message.timestamp >= since) yield message;
    }
    yield* containerLogs(this.docker, current, request);
  }

  listSecrets(namespace: string): Promise<Secret[]> {
    return this.secrets.list(namespace);
  }

  createSecret(secret: Secret): Promise<void> {
    return this.secrets.write(secret, false);
  }

  updateSecret(secret: Secret): Promise<void> {
    return this.secrets.write(secret, true);
  }

  removeSecret(name: string, namespace: string): Promise<void> {
    return this.secrets.remove(name, namespace);
  }

  // --- internals -------------------------------------------------------------------------

  /** Operations on one function run one at a time; different functions run in parallel. */
  private locked<T>(name: string, namespace: string, work: () => Promise<T>): Promise<T> {
    const k = `${namespace}/${name}`;
    const before = this.locks.get(k) ?? Promise.resolve();
    const run = before.catch(() => undefined).then(work);
    const tail = run.catch(() => undefined);
    this.locks.set(k, tail);
    void tail.then(() => this.locks.get(k) === tail && this.locks.delete(k));
    return run;
  }

  private async checkSecrets(d: NamespacedDeployment): Promise<void> {
    for (const s of d.secrets ?? []) {
      if (!(await this.secrets.exists(s, d.namespace))) {
        throw new ProviderError('invalid', `secret "${s}" does not exist in namespace "${d.namespace}"; create it first (POST /system/secrets)`);
      }
    }
  }

  private async launch(d: NamespacedDeployment, generation: number, replicas: number): Promise<void> {
    const spec = { functionHost: this.opts.functionHost, secretsDir: path.join(this.opts.stateDir, 'secrets'), instance: this.opts.instance ?? 'default' };
    if (replicas === 0) {
      await this.createContainer(createOptions(d, String(generation), 'parked', spec));
      return;
    }
    await this.startReplicas(Array.from({ length: replicas }, () => createOptions(d, String(generation), 'replica', spec)));
  }

  private async createContainer(options: Docker.ContainerCreateOptions): Promise<string> {
    let container: Docker.Container;
    try {
      container = await this.docker.createContainer(options);
    } catch (err) {
      const reason = (err as { json?: { message?: string } }).json?.message ?? (err as Error).message;
      const code = (err as { statusCode?: number }).statusCode;
      if (code === 404) throw new ProviderError('image', `image "${options.Image}" cannot be used: ${reason}`, { cause: err });
      if (code && code < 500) throw new ProviderError('invalid', `Docker refused the function: ${reason}`, { cause: err });
      throw err;
    }
    await this.cache.add(container.id);
    return container.id;
  }

  /** Creates and starts containers and waits until each answers; on any failure removes them all. */
  private async startReplicas(options: Docker.ContainerCreateOptions[]): Promise<void> {
    const ids: string[] = [];
    try {
      for (const o of options) ids.push(await this.createContainer(o));
      const deadline = Date.now() + this.opts.startTimeoutMs;
      await Promise.all(
        ids.map(async (id) => {
          // 304: already started (another gateway watching the same engine got there first).
          await this.docker
            .getContainer(id)
            .start()
            .catch((err: { statusCode?: number }) => {
              if (err.statusCode !== 304) throw err;
            });
          if (!(await this.cache.ready(id, deadline))) throw await this.neverReady(id);
        }),
      );
    } catch (err) {
      for (const id of ids) this.cache.leave(id);
      await Promise.all(ids.map((id) => this.destroy(id)));
      throw err;
    }
  }

  /** Explains why a replica never answered: it exited (with its last output) or stayed silent. */
  private async neverReady(id: string): Promise<ProviderError> {
    const container = this.docker.getContainer(id);
    const info = await container.inspect().catch(() => undefined);
    // Enough of the output to hold the first error line, demultiplexed (crash-output.ts).
    const output = await container
      .logs({ stdout: true, stderr: true, tail: 400, follow: false })
      .then((b) => crashExcerpt(demuxDockerLog(b as unknown as Buffer)))
      .catch(() => ({ lines: [] as string[], headline: undefined }));
    const seconds = this.opts.startTimeoutMs / 1000;
    // The die event's exit code holds even if something started the container again since.
    const exitCode = this.cache.replica(id)?.exitCode ?? (info && !info.State.Running ? info.State.ExitCode : undefined);
    const what = exitCode !== undefined ? `exited with code ${exitCode}` : `did not answer HTTP on port 8080 within ${seconds} s`;
    // The first line is what a status shows (the error itself); the excerpt follows for logs.
    const fn = info?.Config.Labels?.[L.FUNCTION];
    const namespace = info?.Config.Labels?.[L.NAMESPACE];
    if (fn && namespace && output.lines.length) {
      const timestamp = new Date().toISOString();
      const instance = info?.Name.replace(/^\//, '') ?? id.slice(0, 12);
      this.crashes.set(`${namespace}/${fn}`, [
        { name: fn, namespace, instance, timestamp, text: `[gitfaas] this replica ${what} and was removed; its output:` },
        ...output.lines.map((text) => ({ name: fn, namespace, instance, timestamp, text })),
      ]);
    }
    const headline = output.headline ? `: ${output.headline}` : '';
    const excerpt = output.lines.length ? `\nits output:\n${output.lines.join('\n')}` : '';
    return new ProviderError('timeout', `replica of "${info?.Config.Labels?.[L.FUNCTION] ?? id}" ${what}${headline}${excerpt}`);
  }

  /** Keeps one replica at zero (keep.ts); false when Docker would not pause or stop it. */
  private keep(replica: Replica, mode: 'paused' | 'stopped'): Promise<boolean> {
    const deadline = Date.now() + this.opts.drainTimeoutMs;
    return keepReplica(this.docker, this.cache, replica, mode, this.opts.isIdle ?? (() => true), deadline, this.opts.log);
  }

  /** Takes replicas out of traffic, lets their in-flight requests finish, removes them. */
  private async retire(replicas: Replica[]): Promise<void> {
    for (const r of replicas) this.cache.leave(r.id);
    const deadline = Date.now() + this.opts.drainTimeoutMs;
    const isIdle = this.opts.isIdle ?? (() => true);
    await Promise.all(
      replicas.map(async (r) => {
        while (!isIdle(r.id) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
        await this.destroy(r.id);
      }),
    );
  }

  private async destroy(id: string): Promise<void> {
    await this.docker
      .getContainer(id)
      .remove({ force: true, v: true })
      .catch((err: { statusCode?: number }) => {
        if (err.statusCode !== 404 && err.statusCode !== 409) throw err;
      });
    this.cache.drop(id);
  }
}
