// The kubelet: every pod in the store runs as a real container on the Docker engine,
// labelled with the stand-in's instance. It pulls the image (ErrImagePull, then
// ImagePullBackOff, retried), starts the container, probes it, reports the pod's status,
// restarts a container that dies or is removed (restartCount, CrashLoopBackOff with a
// back-off), keeps its Secret/ConfigMap volumes current (volume-refresh.ts), and finishes a
// pod's graceful deletion by stopping its container.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type Docker from 'dockerode';
import { containerOptions, containerPort } from './container-spec.js';
import { podStatus, type ContainerState } from './pod-status.js';
import { Prober } from './probes.js';
import type { Store, StoreEvent } from './store.js';
import { watchContainers } from './docker-events.js';
import { pullImage } from './images.js';
import { VolumeRefresher } from './volume-refresh.js';
import { NotReadyToStart } from './volumes.js';

export const INSTANCE_LABEL = 'com.gitfaas.kube-standin';
const POD_LABEL = 'com.gitfaas.kube-standin.pod';

export interface KubeletOptions {
  instance: string;
  /** Host directory for Secret and ConfigMap volumes. */
  volumesDir: string;
  probePeriodCapMs: number;
  /** Time between a pod being marked for deletion and its container getting SIGTERM: the endpoint propagation a real cluster has. */
  terminationDelayMs: number;
  /** The longest grace period honoured before SIGKILL (seconds). */
  maxGraceSeconds: number;
  /** Longest back-off before a crashed container or a failed pull is retried (ms). */
  maxBackoffMs: number;
  onError(err: unknown): void;
}

interface Runtime {
  uid: string;
  namespace: string;
  name: string;
  containerId?: string;
  port?: number;
  imageID?: string;
  state: ContainerState;
  lastState?: ContainerState;
  ready: boolean;
  restartCount: number;
  crashes: number;
  startedAtMs: number;
  startTime: string;
  terminating: boolean;
  gone: boolean;
  probes: Prober[];
  timer?: NodeJS.Timeout;
  queue: Promise<void>;
}

const stamp = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Kubelet {
  private readonly pods = new Map<string, Runtime>();
  private stopEvents?: () => void;
  private closed = false;
  private readonly onStore = (e: StoreEvent) => this.onPodEvent(e);
  private readonly volumes: VolumeRefresher;

  constructor(
    private readonly store: Store,
    private readonly docker: Docker,
    private readonly opts: KubeletOptions,
  ) {
    this.volumes = new VolumeRefresher(store, (uid) => this.podDir(uid), opts.onError);
  }

  async start(): Promise<void> {
    this.stopEvents = await watchContainers(this.docker, `${INSTANCE_LABEL}=${this.opts.instance}`, (action, id, exitCode) => this.onContainer(action, id, exitCode), this.opts.onError);
    this.store.on('event', this.onStore);
    this.volumes.start();
    for (const pod of this.store.list('pods')) this.onPodEvent({ type: 'ADDED', plural: 'pods', object: pod, rv: 0 });
  }

  /** The host port a pod's container is published on, while it runs. */
  publishedPort(uid: string): number | undefined {
    const rt = this.pods.get(uid);
    return rt && 'running' in rt.state ? rt.port : undefined;
  }

  /** Where a live pod's volume directories are; undefined once it is going away. */
  private podDir(uid: string): string | undefined {
    const rt = this.pods.get(uid);
    return rt && !rt.gone && !rt.terminating ? path.join(this.opts.volumesDir, uid) : undefined;
  }

  containerId(uid: string): string | undefined {
    return this.pods.get(uid)?.containerId;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.store.off('event', this.onStore);
    this.stopEvents?.();
    await this.volumes.close();
    for (const rt of this.pods.values()) {
      rt.gone = true;
      clearTimeout(rt.timer);
      rt.probes.forEach((p) => p.stop());
    }
    await Promise.all([...this.pods.values()].map((rt) => rt.queue));
    const left = await this.docker.listContainers({ all: true, filters: { label: [`${INSTANCE_LABEL}=${this.opts.instance}`] } });
    await Promise.all(left.map((c) => this.docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
    await rm(this.opts.volumesDir, { recursive: true, force: true });
  }

  private onPodEvent(e: StoreEvent): void {
    if (e.plural !== 'pods' || this.closed) return;
    const pod = e.object;
    const uid = pod.metadata.uid;
    let rt = this.pods.get(uid);
    if (e.type === 'DELETED') {
      if (rt && !rt.gone) this.enqueue(rt, () => this.finish(rt!, 0, false));
      return;
    }
    if (!rt) {
      rt = {
        uid,
        namespace: pod.metadata.namespace,
        name: pod.metadata.name,
        state: { waiting: { reason: 'ContainerCreating' } },
        ready: false,
        restartCount: 0,
        crashes: 0,
        startedAtMs: 0,
        startTime: stamp(),
        terminating: false,
        gone: false,
        probes: [],
        queue: Promise.resolve(),
      };
      this.pods.set(uid, rt);
      const created = rt;
      this.writeStatus(created);
      if (!pod.metadata.deletionTimestamp) this.enqueue(created, () => this.launch(created));
    }
    if (pod.metadata.deletionTimestamp && !rt.terminating) {
      rt.terminating = true;
      const grace = Math.min(pod.metadata.deletionGracePeriodSeconds ?? 30, this.opts.maxGraceSeconds);
      const dying = rt;
      this.enqueue(dying, () => this.finish(dying, grace, true));
    }
  }

  private enqueue(rt: Runtime, step: () => Promise<void>): void {
    rt.queue = rt.queue.then(step).catch((err) => this.opts.onError(err));
  }

  private retry(rt: Runtime, ms: number): void {
    clearTimeout(rt.timer);
    rt.timer = setTimeout(() => this.enqueue(rt, () => this.launch(rt)), ms);
  }

  private backoff(rt: Runtime): number {
    return Math.min(500 * 2 ** Math.max(rt.crashes - 1, 0), this.opts.maxBackoffMs);
  }

  private async launch(rt: Runtime): Promise<void> {
    if (rt.gone || rt.terminating || this.closed) return;
    const pod = this.store.get('pods', rt.namespace, rt.name);
    if (!pod || pod.metadata.uid !== rt.uid) return;
    const container = pod.spec.containers[0];
    try {
      rt.imageID = await pullImage(this.docker, container.image, container.imagePullPolicy);
    } catch (err) {
      rt.crashes++;
      rt.state = { waiting: { reason: 'ErrImagePull', message: (err as Error).message } };
      this.writeStatus(rt);
      const wait = this.backoff(rt);
      rt.timer = setTimeout(() => {
        if ('waiting' in rt.state && rt.state.waiting.reason === 'ErrImagePull' && !rt.terminating) {
          rt.state = { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${container.image}"` } };
          this.writeStatus(rt);
        }
        this.retry(rt, wait);
      }, 200);
      return;
    }
    let options: Docker.ContainerCreateOptions;
    try {
      options = await containerOptions(this.store, pod, {
        name: `kube-${this.opts.instance}-${rt.namespace}-${rt.name}-${rt.restartCount}`,
        labels: { [INSTANCE_LABEL]: this.opts.instance, [POD_LABEL]: `${rt.namespace}/${rt.name}` },
        podDir: path.join(this.opts.volumesDir, rt.uid),
      });
    } catch (err) {
      if (!(err instanceof NotReadyToStart)) throw err;
      rt.state = { waiting: { reason: err.reason, message: err.message } };
      this.writeStatus(rt);
      this.retry(rt, 1000);
      return;
    }
    const created = await this.docker.createContainer(options);
    rt.containerId = created.id;
    try {
      await created.start();
    } catch (err) {
      rt.state = { waiting: { reason: 'RunContainerError', message: (err as Error).message } };
      await created.remove({ force: true }).catch(() => undefined);
      rt.containerId = undefined;
      rt.crashes++;
      this.writeStatus(rt);
      this.retry(rt, this.backoff(rt));
      return;
    }
    const info = await created.inspect();
    const binding = info.NetworkSettings.Ports?.[`${containerPort(pod)}/tcp`]?.[0];
    rt.port = binding ? Number(binding.HostPort) : undefined;
    rt.startedAtMs = Date.now();
    rt.state = { running: { startedAt: stamp() } };
    rt.ready = !container.readinessProbe;
    this.writeStatus(rt);
    this.startProbes(rt, container);
  }

  private startProbes(rt: Runtime, container: any): void {
    if (!rt.port) return;
    const timing = { capMs: this.opts.probePeriodCapMs };
    if (container.readinessProbe) {
      rt.probes.push(
        new Prober(container.readinessProbe, rt.port, timing, (ok) => {
          rt.ready = ok;
          this.writeStatus(rt);
        }),
      );
    }
    if (container.livenessProbe) {
      const id = rt.containerId;
      rt.probes.push(
        new Prober(container.livenessProbe, rt.port, timing, (ok) => {
          // A failed liveness probe kills the container; the die event restarts it.
          if (!ok && id && rt.containerId === id) void this.docker.getContainer(id).kill().catch(() => undefined);
        }),
      );
    }
  }

  /** A container of ours died or was removed: restart it unless its pod is going away. */
  private onContainer(action: string, id: string, exitCode: number): void {
    const rt = [...this.pods.values()].find((r) => r.containerId === id);
    if (!rt || rt.terminating || rt.gone) return;
    rt.probes.forEach((p) => p.stop());
    rt.probes = [];
    rt.containerId = undefined;
    rt.port = undefined;
    rt.ready = false;
    const startedAt = 'running' in rt.state ? rt.state.running.startedAt : undefined;
    rt.lastState = { terminated: { exitCode, reason: action === 'oom' ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error', startedAt, finishedAt: stamp() } };
    void this.docker.getContainer(id).remove({ force: true }).catch(() => undefined);
    const pod = this.store.get('pods', rt.namespace, rt.name);
    const policy = pod?.spec.restartPolicy ?? 'Always';
    if (policy === 'Never' || (policy === 'OnFailure' && exitCode === 0)) {
      rt.state = rt.lastState;
      this.writeStatus(rt);
      return;
    }
    // A container that ran a while starts its back-off afresh, as the kubelet's does.
    if (Date.now() - rt.startedAtMs > 10_000) rt.crashes = 0;
    rt.crashes++;
    rt.restartCount++;
    const wait = rt.crashes <= 1 ? 0 : this.backoff(rt);
    rt.state = wait > 0 ? { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${wait}ms restarting failed container=${pod?.spec.containers[0].name} pod=${rt.name}` } } : { waiting: { reason: 'ContainerCreating' } };
    this.writeStatus(rt);
    this.retry(rt, wait);
  }

  /** Stops the pod's container (after the endpoint propagation delay when graceful) and removes the pod. */
  private async finish(rt: Runtime, graceSeconds: number, graceful: boolean): Promise<void> {
    clearTimeout(rt.timer);
    rt.terminating = true;
    rt.probes.forEach((p) => p.stop());
    rt.probes = [];
    rt.ready = false;
    if (graceful) {
      this.writeStatus(rt);
      await sleep(this.opts.terminationDelayMs);
    }
    const id = rt.containerId;
    rt.containerId = undefined;
    if (id) {
      const container = this.docker.getContainer(id);
      await container.stop({ t: graceSeconds }).catch(() => undefined);
      await container.remove({ force: true }).catch(() => undefined);
    }
    await rm(path.join(this.opts.volumesDir, rt.uid), { recursive: true, force: true });
    rt.gone = true;
    this.pods.delete(rt.uid);
    const pod = this.store.get('pods', rt.namespace, rt.name);
    if (pod && pod.metadata.uid === rt.uid) this.store.remove('pods', rt.namespace, rt.name);
  }

  private writeStatus(rt: Runtime): void {
    if (rt.gone || this.closed) return;
    const pod = this.store.get('pods', rt.namespace, rt.name);
    if (!pod || pod.metadata.uid !== rt.uid) return;
    pod.status = podStatus(pod, rt);
    this.store.update('pods', pod);
  }
}
