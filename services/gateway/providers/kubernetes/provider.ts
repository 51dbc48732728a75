// The Kubernetes provider: a function is a Deployment plus a Service in a namespace gitfaas
// manages. The cluster holds all state, so a restarted gateway, or several of them, see the
// same functions; informers (replicas.ts) mirror it in memory for the proxy's hot path.
import { setTimeout as sleep } from 'node:timers/promises';
import { AppsV1Api, CoreV1Api, type KubeConfig, type V1Deployment } from '@kubernetes/client-node';
import type { Logger } from '../../../../shared/logger.js';
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
import { call, callOrAbsent, statusCode, toProviderError } from './errors.js';
import { podLogs, sourcesOf } from './logs.js';
import { Namespaces } from './namespaces.js';
import { FunctionCache } from './replicas.js';
import { Secrets } from './secrets.js';
import { deploymentFor, initialReplicas, serviceFor, validateDeployment, type SpecOptions } from './spec.js';
import { PodProblems } from './status.js';
import * as L from './labels.js';

export interface KubernetesProviderOptions {
  log: Logger;
  kubeConfig: KubeConfig;
  /** Functions are labelled gitfaas.dev/instance=<instance>; other instances' are never seen. Default "default". */
  instance?: string;
  /** How long a rollout may take before deploy/update/scale fails. */
  startTimeoutMs: number;
  maxReplicas: number;
  /** Docker config JSON (GITFAAS_KUBE_IMAGE_PULL_SECRET) functions pull their images with. */
  imagePullSecret?: string;
}

export interface ProviderHealth {
  ok: boolean;
  reason?: string;
}

const fnName = (name: string, namespace: string) => `function "${name}" in namespace "${namespace}"`;
const notFound = (name: string, namespace: string) => new ProviderError('not_found', `${fnName(name, namespace)} not found`);

export class KubernetesProvider implements Provider {
  readonly info: ProviderInfo = { name: 'gitfaas-kubernetes', orchestration: 'kubernetes', version: '0.1.0' };
  private readonly apps: AppsV1Api;
  private readonly core: CoreV1Api;
  private readonly cache: FunctionCache;
  private readonly feed: ChangeFeed;
  private readonly namespaceStore: Namespaces;
  private readonly secrets: Secrets;
  private readonly pods: PodProblems;
  private readonly spec: SpecOptions;
  private readonly pullSecretIn = new Set<string>();
  private readonly locks = new Map<string, Promise<unknown>>();

  private constructor(private readonly opts: KubernetesProviderOptions) {
    const kc = opts.kubeConfig;
    this.apps = kc.makeApiClient(AppsV1Api);
    this.core = kc.makeApiClient(CoreV1Api);
    this.feed = new ChangeFeed(
      (name, namespace) => this.endpoints(name, namespace),
      (err) => opts.log.error({ err }, 'a change-feed listener failed'),
    );
    // Every change the informers see (this gateway's writes, another gateway's, kubelet's)
    // reaches the feed.
    this.cache = new FunctionCache(kc, opts.instance ?? 'default', opts.log, (name, namespace) => {
      const dep = this.cache.deployment(name, namespace);
      this.feed.observe(name, namespace, dep && this.cache.status(dep));
    });
    this.namespaceStore = new Namespaces(kc);
    this.secrets = new Secrets(kc);
    this.pods = new PodProblems(kc);
    this.spec = { instance: opts.instance ?? 'default', pullSecret: opts.imagePullSecret !== undefined };
  }

  /** Lists every function of this instance and starts watching; fails when the API server cannot be reached. */
  static async start(opts: KubernetesProviderOptions): Promise<KubernetesProvider> {
    const provider = new KubernetesProvider(opts);
    try {
      await provider.cache.start();
    } catch (err) {
      await provider.cache.stop();
      const server = opts.kubeConfig.getCurrentCluster()?.server;
      const reason = (toProviderError(err, 'listing functions') as Error).message;
      throw new Error(`cannot use the Kubernetes API server at ${server} (${reason}): check GITFAAS_KUBECONFIG and GITFAAS_KUBE_CONTEXT`, { cause: err });
    }
    return provider;
  }

  async close(): Promise<void> {
    this.feed.close();
    await this.cache.stop();
  }

  /** Whether the in-memory picture is current; the reason when the API server cannot be watched. */
  health(): ProviderHealth {
    const problem = this.cache.problem();
    return problem ? { ok: false, reason: `Kubernetes API server unreachable: ${problem}` } : { ok: true };
  }

  endpoints(name: string, namespace: string): readonly Endpoint[] | undefined {
    return this.cache.endpoints(name, namespace);
  }

  onChange(listener: (change: FunctionChange) => void): () => void {
    return this.feed.onChange(listener);
  }

  waitUntilReady(name: string, namespace: string, options: { timeoutMs: number; signal?: AbortSignal }): Promise<readonly Endpoint[]> {
    return this.feed.waitUntilReady(name, namespace, options);
  }

  deploy(d: NamespacedDeployment): Promise<void> {
    return this.locked(d.service, d.namespace, async () => {
      validateDeployment(d);
      const replicas = initialReplicas(d, this.opts.maxReplicas);
      this.assertCurrent();
      if (this.cache.deployment(d.service, d.namespace)) throw this.exists(d);
      await this.prepare(d);
      try {
        await this.apps.createNamespacedDeployment({ namespace: d.namespace, body: deploymentFor(d, replicas, this.spec) });
      } catch (err) {
        throw statusCode(err) === 409 ? this.exists(d) : toProviderError(err, fnName(d.service, d.namespace));
      }
      try {
        await this.ensureService(d);
        await this.settle(d, () => {
          const dep = this.cache.deployment(d.service, d.namespace);
          return dep && (replicas === 0 || (this.cache.endpoints(d.service, d.namespace)?.length ?? 0) >= 1) ? true : undefined;
        });
      } catch (err) {
        // A function that cannot start is not left behind half made (as with Docker).
        await this.delete(d.service, d.namespace).catch((e: unknown) => this.opts.log.warn({ err: e, fn: `${d.service}.${d.namespace}` }, 'could not remove a function that failed to start'));
        throw err;
      }
    });
  }

  update(d: NamespacedDeployment): Promise<void> {
    return this.locked(d.service, d.namespace, async () => {
      validateDeployment(d);
      const what = fnName(d.service, d.namespace);
      const before = await callOrAbsent(what, () => this.apps.readNamespacedDeployment({ name: d.service, namespace: d.namespace }));
      if (!before || before.metadata?.labels?.[L.INSTANCE] !== this.spec.instance) throw notFound(d.service, d.namespace);
      await this.prepare(d);
      const replicas = before.spec?.replicas ?? 1;
      const body = deploymentFor(d, replicas, this.spec);
      body.metadata!.resourceVersion = before.metadata?.resourceVersion;
      const written = await call(what, () => this.apps.replaceNamespacedDeployment({ name: d.service, namespace: d.namespace, body }));
      await this.ensureService(d);
      try {
        await this.settle(d, () => this.rolledOut(d.service, d.namespace, written.metadata?.generation ?? 0, replicas));
      } catch (err) {
        if (!(err instanceof ProviderError && err.code === 'image')) throw err;
        // The old replicas still serve (maxUnavailable 0); put their spec back so they stay.
        await this.restore(before).catch((e: unknown) => this.opts.log.warn({ err: e, fn: `${d.service}.${d.namespace}` }, 'could not roll back a failed update'));
        throw err;
      }
    });
  }

  remove(name: string, namespace: string): Promise<void> {
    return this.locked(name, namespace, async () => {
      if (!this.cache.deployment(name, namespace)) {
        this.assertCurrent();
        throw notFound(name, namespace);
      }
      await this.delete(name, namespace);
    });
  }

  scale(name: string, namespace: string, replicas: number): Promise<void> {
    return this.locked(name, namespace, async () => {
      if (!Number.isInteger(replicas) || replicas < 0 || replicas > this.opts.maxReplicas) {
        throw new ProviderError('invalid', `replicas must be a whole number from 0 to ${this.opts.maxReplicas}, got ${replicas}`);
      }
      const what = fnName(name, namespace);
      if (!this.cache.deployment(name, namespace)) {
        this.assertCurrent();
        throw notFound(name, namespace);
      }
      // Through the scale subresource, as kubectl scale and the HPA do; a conflict is retried.
      for (let attempt = 0; ; attempt += 1) {
        const scale = await call(what, () => this.apps.readNamespacedDeploymentScale({ name, namespace }));
        scale.spec = { replicas };
        try {
          await this.apps.replaceNamespacedDeploymentScale({ name, namespace, body: scale });
          break;
        } catch (err) {
          if (statusCode(err) !== 409 || attempt >= 3) throw toProviderError(err, what);
        }
      }
      const dep = await call(what, () => this.apps.readNamespacedDeployment({ name, namespace }));
      const image = dep.spec?.template.spec?.containers[0]?.image ?? '';
      await this.settle({ service: name, namespace, image }, () => this.rolledOut(name, namespace, dep.metadata?.generation ?? 0, replicas));
    });
  }

  async get(name: string, namespace: string): Promise<FunctionStatus | undefined> {
    this.assertCurrent();
    const dep = this.cache.deployment(name, namespace);
    return dep ? this.cache.status(dep) : undefined;
  }

  async list(namespace: string): Promise<FunctionStatus[]> {
    this.assertCurrent();
    return this.cache
      .all()
      .filter((d) => d.metadata?.namespace === namespace)
      .map((d) => this.cache.status(d))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  namespaces(): Promise<string[]> {
    return this.namespaceStore.list();
  }

  async *logs(request: LogRequest): AsyncIterable<LogMessage> {
    this.assertCurrent();
    if (!this.cache.deployment(request.name, request.namespace)) throw notFound(request.name, request.namespace);
    const current = async () => {
      if (!this.cache.deployment(request.name, request.namespace)) return undefined;
      return sourcesOf(await this.pods.pods(request.name, request.namespace), request.follow);
    };
    yield* podLogs(this.opts.kubeConfig, current, request);
  }

  async listSecrets(namespace: string): Promise<Secret[]> {
    try {
      await this.namespaceStore.check(namespace);
    } catch (err) {
      // A namespace not made yet holds no secrets.
      if (err instanceof ProviderError && err.code === 'not_found') return [];
      throw err;
    }
    return this.secrets.list(namespace);
  }

  async createSecret(secret: Secret): Promise<void> {
    await this.namespaceStore.ensure(secret.namespace);
    await this.secrets.create(secret);
  }

  async updateSecret(secret: Secret): Promise<void> {
    await this.namespaceStore.check(secret.namespace);
    await this.secrets.update(secret);
  }

  async removeSecret(name: string, namespace: string): Promise<void> {
    await this.namespaceStore.check(namespace);
    await this.secrets.remove(name, namespace);
  }

  // --- internals -------------------------------------------------------------------------

  /** Operations on one function run one at a time in this gateway; different functions in parallel. */
  private locked<T>(name: string, namespace: string, work: () => Promise<T>): Promise<T> {
    const k = `${namespace}/${name}`;
    const before = this.locks.get(k) ?? Promise.resolve();
    const run = before.catch(() => undefined).then(work);
    const tail = run.catch(() => undefined);
    this.locks.set(k, tail);
    void tail.then(() => this.locks.get(k) === tail && this.locks.delete(k));
    return run;
  }

  /** Reads from memory would be stale: say so instead of answering from an old picture. */
  private assertCurrent(): void {
    const problem = this.cache.problem();
    if (problem) throw new ProviderError('unavailable', `the Kubernetes API server is unreachable, so functions cannot be read or changed now (${problem})`);
  }

  private exists(d: NamespacedDeployment): ProviderError {
    return new ProviderError('conflict', `${fnName(d.service, d.namespace)} already exists; update it with PUT`);
  }

  /** The namespace (made on first deploy), the registry credentials, and the secrets the function names. */
  private async prepare(d: NamespacedDeployment): Promise<void> {
    await this.namespaceStore.ensure(d.namespace);
    if (this.opts.imagePullSecret !== undefined && !this.pullSecretIn.has(d.namespace)) {
      await this.secrets.ensurePullSecret(d.namespace, this.opts.imagePullSecret);
      this.pullSecretIn.add(d.namespace);
    }
    if (d.secrets?.length) {
      const have = new Set((await this.secrets.list(d.namespace)).map((s) => s.name));
      for (const s of d.secrets) {
        if (!have.has(s)) throw new ProviderError('invalid', `secret "${s}" does not exist in namespace "${d.namespace}"; create it first (POST /system/secrets)`);
      }
    }
  }

  private async ensureService(d: NamespacedDeployment): Promise<void> {
    try {
      await this.core.createNamespacedService({ namespace: d.namespace, body: serviceFor(d, this.spec) });
    } catch (err) {
      // Already there (made by an earlier deploy or another gateway): its shape is the same.
      if (statusCode(err) !== 409) throw toProviderError(err, `service of ${fnName(d.service, d.namespace)}`);
    }
  }

  /** True once the Deployment's controller has rolled out `generation` and exactly `replicas` serve. */
  private rolledOut(name: string, namespace: string, generation: number, replicas: number): true | undefined {
    const dep = this.cache.deployment(name, namespace);
    if (!dep) throw notFound(name, namespace);
    const s = dep.status ?? {};
    if ((s.observedGeneration ?? 0) < generation) return undefined;
    if (replicas > 0 && ((s.updatedReplicas ?? 0) < replicas || (s.availableReplicas ?? 0) < replicas)) return undefined;
    if ((s.replicas ?? 0) !== replicas) return undefined;
    return this.cache.endpoints(name, namespace)?.length === replicas ? true : undefined;
  }

  /**
   * Waits until `check` holds; meanwhile reads the pods' status, so an image that cannot be
   * pulled fails at once (image) and a timeout says why the replicas did not start.
   */
  private async settle(d: Pick<NamespacedDeployment, 'service' | 'namespace' | 'image'>, check: () => true | undefined): Promise<void> {
    const stop = new AbortController();
    let seen: ProviderError | undefined;
    const problems = (async () => {
      for (;;) {
        await sleep(1000, undefined, { signal: stop.signal });
        const problem = await this.pods.find(d.service, d.namespace, d.image).catch(() => undefined);
        if (problem?.code === 'image') throw problem;
        seen = problem ?? seen;
      }
    })();
    const ms = this.opts.startTimeoutMs;
    try {
      await Promise.race([this.cache.until(check, ms, `${fnName(d.service, d.namespace)} did not become ready within ${ms / 1000} s`, stop.signal), problems]);
    } catch (err) {
      if (err instanceof ProviderError && err.code === 'timeout' && seen) throw new ProviderError('timeout', `${seen.message} (waited ${ms / 1000} s)`);
      throw err;
    } finally {
      stop.abort();
      problems.catch(() => undefined);
    }
  }

  /** Deletes the Deployment (its pods go with it) and the Service; resolves once the informer saw it go. */
  private async delete(name: string, namespace: string): Promise<void> {
    const what = fnName(name, namespace);
    try {
      await this.apps.deleteNamespacedDeployment({ name, namespace, propagationPolicy: 'Background' });
    } catch (err) {
      throw toProviderError(err, what);
    }
    await callOrAbsent(`service of ${what}`, () => this.core.deleteNamespacedService({ name, namespace }));
    await this.cache
      .until(() => (this.cache.deployment(name, namespace) ? undefined : true), this.opts.startTimeoutMs, `${what} was deleted but the watch did not see it go`)
      .catch((err: unknown) => this.opts.log.warn({ err, fn: `${name}.${namespace}` }, 'removal not yet seen'));
  }

  /** Puts a Deployment's earlier template back (after an update whose image could not be pulled). */
  private async restore(before: V1Deployment): Promise<void> {
    const name = before.metadata!.name!;
    const namespace = before.metadata!.namespace!;
    const now = await this.apps.readNamespacedDeployment({ name, namespace });
    now.spec!.template = before.spec!.template;
    now.metadata!.labels = before.metadata?.labels;
    now.metadata!.annotations = { ...now.metadata?.annotations, ...before.metadata?.annotations };
    await this.apps.replaceNamespacedDeployment({ name, namespace, body: now });
  }
}
