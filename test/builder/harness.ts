// What the builder's end-to-end tests share: a builder service on a fresh queue prefix
// with a recording StatusReporter, the build-log route on an ephemeral port, real git
// repositories served over HTTP at /<owner>/<name>.git (the server's origin in
// GITFAAS_GIT_HOSTS), jobs enqueued as the receiver does (nextSeq + BuildJob), and the built
// images run with dockerode on 127.0.0.1. Everything created carries the run's id and is
// removed by that id.
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { Queue, type Job } from 'bullmq';
import Docker from 'dockerode';
import { Redis } from 'ioredis';
import { BUILDS_QUEUE, BuildJob, buildJobId, DEPLOYS_QUEUE, type DeployJob, type SourceRef } from '../../shared/jobs.js';
import { silentLogger } from '../../shared/logger.js';
import { nextSeq } from '../../shared/supersede.js';
import { loadBuilderConfig } from '../../services/builder/config.js';
import type { ImageBuilder } from '../../services/builder/engine-build.js';
import { startBuilder, type BuilderDeps, type RunningBuilder } from '../../services/builder/service.js';
import { buildLogRoute } from '../../services/webhooks/build-log-route.js';
import { waitFor } from '../helpers/wait.js';
import { startGitHttpServer, type GitHttpServer } from './git-http-server.js';
import { TestRepo } from './git-repo.js';
import { RecordingReporter } from './recording-reporter.js';

export const LOCAL_NODE_IMAGE = '127.0.0.1:5000/gitfaas/node:20';
export const LOCAL_DEBIAN_IMAGE = '127.0.0.1:5000/gitfaas/debian:bookworm';

export class BuilderHarness {
  readonly runId = randomBytes(4).toString('hex');
  readonly namespace = `gh-t${this.runId}`;
  readonly prefix = `t-bld-${this.runId}`;
  readonly reporter = new RecordingReporter();
  readonly docker = new Docker();
  redis!: Redis;
  builds!: Queue<BuildJob>;
  deploys!: Queue<DeployJob>;
  root!: string;
  logBase!: string;
  /** One build-log server per queue prefix, as each instance's receiver serves its own logs. */
  private readonly logServers = new Map<string, { server: ServerType; base: string }>();
  /** Serves every repository of this run at /t<runId>/<name>.git. */
  git!: GitHttpServer;
  private readonly services: RunningBuilder[] = [];
  private readonly repoIds = new Set<number>();
  private readonly lanes: Queue[] = [];

  async start(): Promise<void> {
    this.root = await mkdtemp(path.join(tmpdir(), 'gitfaas-builder-'));
    this.redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
    this.builds = new Queue(BUILDS_QUEUE, { connection: this.redis, prefix: this.prefix });
    this.deploys = new Queue(DEPLOYS_QUEUE, { connection: this.redis, prefix: this.prefix });
    this.logBase = await this.logServerFor(this.prefix);
    this.git = await startGitHttpServer(path.join(this.root, 'served'));
  }

  get owner(): string {
    return `t${this.runId}`;
  }

  private async logServerFor(prefix: string): Promise<string> {
    const known = this.logServers.get(prefix);
    if (known) return known.base;
    let server!: ServerType;
    await new Promise<void>((resolve) => {
      server = serve({ fetch: buildLogRoute(this.redis, prefix).fetch, hostname: '127.0.0.1', port: 0 }, () => resolve());
    });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    this.logServers.set(prefix, { server, base });
    return base;
  }

  /**
   * Starts a builder on this run's queues (or on a queue prefix of its own, for a builder
   * with different settings), with extra environment variables.
   */
  async startBuilder(
    env: Record<string, string> = {},
    builder?: ImageBuilder,
    prefix = this.prefix,
    deps: Partial<BuilderDeps> = {},
  ): Promise<RunningBuilder> {
    const config = loadBuilderConfig({
      GITFAAS_STATE_DIR: path.join(this.root, 'state'),
      GITFAAS_QUEUE_PREFIX: prefix,
      GITFAAS_TEMPLATE_NODE_IMAGE: LOCAL_NODE_IMAGE,
      GITFAAS_TEMPLATE_PYTHON_IMAGE: LOCAL_DEBIAN_IMAGE,
      GITFAAS_WEBHOOKS_PUBLIC_URL: await this.logServerFor(prefix),
      GITFAAS_BUILD_PARALLELISM: '3',
      GITFAAS_BUILDER_CONCURRENCY: '2',
      GITFAAS_BUILD_LOG_TTL: '1h',
      GITFAAS_GIT_HOSTS: this.git.url,
      ...env,
    });
    const service = await startBuilder(config, silentLogger(), { reporter: this.reporter, builder, cloneCredentials: async () => undefined, ...deps });
    this.services.push(service);
    return service;
  }

  /** A builder with its own settings on a queue prefix of its own, and that prefix's queues. */
  async lane(env: Record<string, string>, builder?: ImageBuilder, deps: Partial<BuilderDeps> = {}): Promise<{ builds: Queue<BuildJob>; deploys: Queue<DeployJob>; prefix: string }> {
    const prefix = `${this.prefix}-${this.lanes.length + 1}`;
    const builds = new Queue<BuildJob>(BUILDS_QUEUE, { connection: this.redis, prefix });
    const deploys = new Queue<DeployJob>(DEPLOYS_QUEUE, { connection: this.redis, prefix });
    this.lanes.push(builds, deploys);
    await this.startBuilder(env, builder, prefix, deps);
    return { builds, deploys, prefix };
  }

  async repo(name: string): Promise<TestRepo> {
    return TestRepo.create(path.join(this.root, 'repos', name), path.join(this.root, 'served', this.owner, `${name}.git`));
  }

  /** Where the builder clones `repo` from. */
  cloneUrl(repo: TestRepo): string {
    return `${this.git.url}/${this.owner}/${path.basename(repo.root)}.git`;
  }

  source(repo: TestRepo, sha: string, extra: Partial<SourceRef> = {}): SourceRef {
    const repoId = (repo as TestRepo & { id?: number }).id ?? randomInt(1_000_000_000, 2_000_000_000);
    (repo as TestRepo & { id?: number }).id = repoId;
    this.repoIds.add(repoId);
    return {
      scm: 'github',
      owner: this.owner,
      repo: path.basename(repo.root),
      fullName: `${this.owner}/${path.basename(repo.root)}`,
      repoId,
      cloneUrl: this.cloneUrl(repo),
      private: false,
      sha,
      branch: 'main',
      defaultBranch: 'main',
      namespace: this.namespace,
      ...extra,
    };
  }

  /** Numbers the event as the receiver does and stores the job; returns its id. */
  async enqueue(source: SourceRef, kind: BuildJob['kind'] = 'push', opts: { seq?: number; queue?: Queue<BuildJob> } = {}): Promise<string> {
    const queue = opts.queue ?? this.builds;
    const seq = opts.seq ?? (await nextSeq(this.redis, queue.opts.prefix ?? this.prefix, source));
    const job = BuildJob.parse({ kind, source, deliveryId: `d-${randomBytes(4).toString('hex')}`, seq, receivedAt: new Date().toISOString() });
    const id = buildJobId(source, kind);
    await queue.add('build', job, { jobId: id });
    return id;
  }

  /** Waits for a build job to complete or fail; returns the job and its final state. */
  async finished(id: string, queue: Queue<BuildJob> = this.builds, timeoutMs = 240_000): Promise<{ job: Job; state: string }> {
    return waitFor(
      `build job ${id} to finish`,
      async () => {
        // The state first, then the job: a job read before it moved to failed would carry
        // the counters (attemptsMade, failedReason) of before.
        const state = await queue.getJobState(id);
        if (state !== 'completed' && state !== 'failed') return undefined;
        const job = await queue.getJob(id);
        return job ? { job, state } : undefined;
      },
      timeoutMs,
      200,
    );
  }

  async deployJob(source: SourceRef, kind: BuildJob['kind'] = 'push', queue = this.deploys): Promise<DeployJob | undefined> {
    const job = await queue.getJob(`deploy-${buildJobId(source, kind)}`);
    return job?.data;
  }

  async log(url: string): Promise<string> {
    const res = await fetch(url);
    if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`);
    return res.text();
  }

  /** Runs an image on 127.0.0.1 (random port) and waits until it answers; returns its base URL. */
  async run(image: string): Promise<string> {
    const container = await this.docker.createContainer({
      Image: image,
      Labels: { 'gitfaas.test': this.runId },
      ExposedPorts: { '8080/tcp': {} },
      HostConfig: { PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] }, ReadonlyRootfs: true },
    });
    await container.start();
    const info = await container.inspect();
    const port = info.NetworkSettings.Ports['8080/tcp']?.[0]?.HostPort;
    if (!port) throw new Error(`no published port for ${image}`);
    const base = `http://127.0.0.1:${port}`;
    await waitFor(`${image} to answer`, async () => (await fetch(`${base}/_/health`).catch(() => undefined))?.ok ?? false, 30_000);
    return base;
  }

  async stop(): Promise<void> {
    for (const s of this.services) await s.stop();
    const containers = await this.docker.listContainers({ all: true, filters: { label: [`gitfaas.test=${this.runId}`] } });
    for (const c of containers) await this.docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
    const images = await this.docker.listImages({ filters: { reference: [`127.0.0.1:5000/${this.namespace}/*`] } });
    for (const i of images) await this.docker.getImage(i.Id).remove({ force: true }).catch(() => {});
    for (const q of this.lanes) {
      await q.obliterate({ force: true }).catch(() => {});
      await q.close();
    }
    await this.builds?.obliterate({ force: true }).catch(() => {});
    await this.deploys?.obliterate({ force: true }).catch(() => {});
    await this.builds?.close();
    await this.deploys?.close();
    for (const { server } of this.logServers.values()) server.close();
    await this.git?.close();
    for (const id of this.repoIds) {
      const keys = await this.redis.keys(`${this.prefix}*:seq:github:${id}:*`);
      if (keys.length > 0) await this.redis.del(...keys);
    }
    await this.redis.quit();
    await rm(this.root, { recursive: true, force: true });
  }
}
