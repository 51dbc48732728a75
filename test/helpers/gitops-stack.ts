// The whole GitOps path in one process for end-to-end tests and the benchmark: the real
// gateway (Docker provider), webhook receiver, builder (BuildKit in the Docker engine,
// local registry) and deployer, on ephemeral 127.0.0.1 ports with a fresh queue prefix,
// and the GitHub and GitLab REST API stand-ins. Git hosting is bare repositories on disk
// served over git's smart HTTP at /<owner>/<name>.git, one server for "GitHub" and one
// for "GitLab" (basic auth for a private GitLab project), both named in GITFAAS_GIT_HOSTS;
// every repository is also known to its host's API stand-in by id.
import { randomBytes, randomInt } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import Docker from 'dockerode';
import { Redis } from 'ioredis';
import { loadBuilderConfig } from '../../services/builder/config.js';
import { startBuilder, type RunningBuilder } from '../../services/builder/service.js';
import { loadDeployerConfig } from '../../services/deployer/config.js';
import { startDeployer } from '../../services/deployer/service.js';
import { loadWebhooksConfig } from '../../services/webhooks/config.js';
import { startWebhooks, type RunningWebhooks } from '../../services/webhooks/service.js';
import { BUILDS_QUEUE } from '../../shared/jobs.js';
import { createLogger, silentLogger, type Logger } from '../../shared/logger.js';
import { ownerNamespace } from '../../shared/names.js';
import type { RunningService } from '../../shared/run-service.js';
import { TestRepo } from '../builder/git-repo.js';
import { startGitHttpServer } from '../builder/git-http-server.js';
import { generateAppKey, startFakeGitHub, type FakeGitHub } from '../fakes/github-api.js';
import { startFakeGitLab, type FakeGitLab } from '../fakes/gitlab-api.js';
import { deliverGitLab, gitlabMergeRequestPayload, gitlabPushPayload, type GitLabTestProject } from './gitlab-payloads.js';
import { startTestGateway, type TestGateway } from './gateway.js';
import { deliverGitHub, pullRequestPayload, pushPayload, type TestRepo as PayloadRepo } from './github-payloads.js';
import { deleteKeys } from './redis-keys.js';
import { waitFor } from './wait.js';

export const REGISTRY = '127.0.0.1:5000';

export interface GitOpsStack {
  gateway: TestGateway;
  github: FakeGitHub;
  gitlab: FakeGitLab;
  /** GITLAB_WEBHOOK_SECRET and GITLAB_TOKEN of this stack. */
  gitlabSecret: string;
  gitlabToken: string;
  webhooks: RunningWebhooks;
  builder: RunningBuilder;
  deployer: RunningService;
  builds: Queue;
  redis: Redis;
  secret: string;
  prefix: string;
  /** The GitHub login all test repositories belong to, and its namespace. */
  owner: string;
  namespace: string;
  /** A new git repository (bare remote on disk) with a unique GitHub repository id, of `owner` (default: the stack's). */
  newRepo(name: string, opts?: { owner?: string }): Promise<GitOpsRepo>;
  /**
   * A GitLab project of `owner` (default: a random login): a bare repository on disk, or
   * with `private`, served over HTTP requiring basic auth oauth2:<GITLAB_TOKEN>.
   */
  newGitLabRepo(name: string, opts?: { owner?: string; private?: boolean }): Promise<GitLabRepo>;
  /** GET /function/NAME.NS through the gateway (NS: the GitHub owner's, unless given). */
  call(fn: string, namespace?: string): Promise<{ status: number; text: string }>;
  /** Waits (up to 3 minutes) for the commit's `context` status to end in success or failure, and returns it. */
  settled(sha: string, context?: string): Promise<ReturnType<FakeGitHub['statusesFor']>[number]>;
  /** A call to the webhooks service's admin API (/system/...), with the admin credentials unless `auth` is given. */
  admin(method: string, path: string, body?: unknown, auth?: string): Promise<{ status: number; text: string; json: () => any }>;
  stop(): Promise<void>;
}

export interface GitOpsRepo {
  git: TestRepo;
  payloadRepo: PayloadRepo;
  /** Commits the files, pushes to the bare repository, returns the sha. */
  commit(files: Record<string, string | null>): Promise<string>;
  /** Delivers GitHub's signed push event for the sha. */
  push(sha: string, opts?: { branch?: string; deliveryId?: string; secret?: string }): ReturnType<typeof deliverGitHub>;
  pullRequest(sha: string, branch: string): ReturnType<typeof deliverGitHub>;
}

export interface GitLabRepo {
  git: TestRepo;
  project: GitLabTestProject;
  namespace: string;
  commit(files: Record<string, string | null>): Promise<string>;
  /** Delivers GitLab's Push Hook for the sha, with the stack's secret token unless given. */
  push(sha: string, opts?: { branch?: string; uuid?: string; token?: string | null }): ReturnType<typeof deliverGitLab>;
  mergeRequest(sha: string, branch: string): ReturnType<typeof deliverGitLab>;
}

export interface GitOpsStackOptions {
  /** Extra environment for the builder and deployer (quotas, GITFAAS_DOMAIN...). */
  env?: Record<string, string>;
  /**
   * Extra environment for the webhooks service. Its reconciler is off unless this turns it
   * on (GITFAAS_RECONCILE): a test that commits without delivering a push expects no build.
   */
  webhooksEnv?: Record<string, string>;
  /** Extra environment for the gateway (e.g. the dashboard's session secret). */
  gatewayEnv?: Record<string, string>;
  log?: Logger;
  readyTimeoutMs?: number;
  /**
   * Act as a GitHub App (check runs, installation tokens; repositories are private and
   * events carry installation INSTALLATION_ID) instead of with a personal token.
   */
  app?: boolean;
}

export const INSTALLATION_ID = 4242;

export async function startGitOpsStack(opts: GitOpsStackOptions = {}): Promise<GitOpsStack> {
  const log = opts.log ?? (process.env.GITFAAS_TEST_LOG ? createLogger('test', process.env.GITFAAS_TEST_LOG) : silentLogger());
  const prefix = `t-gitops-${randomBytes(4).toString('hex')}`;
  const secret = randomBytes(20).toString('hex');
  const token = `ghp_${randomBytes(10).toString('hex')}`;
  const owner = `Octo${randomBytes(3).toString('hex')}`;
  const namespace = ownerNamespace('github', owner);
  const root = await mkdtemp(path.join(os.tmpdir(), 'gitfaas-gitops-'));
  const stops: (() => Promise<unknown>)[] = [];
  const repoIds: number[] = [];
  const gitlabIds: number[] = [];
  /** Namespaces whose images this run built (the GitHub owner's and every GitLab owner's). */
  const namespaces = new Set<string>([namespace]);
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
  };
  try {
    // The prefix too: the gateway's dashboard reads this run's build history.
    const gateway = await startTestGateway({ env: { GITFAAS_QUEUE_PREFIX: prefix, ...opts.gatewayEnv } });
    stops.push(() => gateway.stop());
    const appId = randomInt(1000, 1_000_000);
    const appKey = opts.app ? generateAppKey() : undefined;
    const github = await startFakeGitHub(appKey ? { app: { appId, publicKey: appKey.publicKey } } : { token });
    stops.push(() => github.stop());
    const gitlabToken = `glpat-${randomBytes(10).toString('hex')}`;
    const gitlabSecret = randomBytes(20).toString('hex');
    const gitlab = await startFakeGitLab({ token: gitlabToken });
    stops.push(() => gitlab.stop());
    const password = Buffer.from(gateway.authHeader.slice('Basic '.length), 'base64').toString().split(':').slice(1).join(':');
    const credentials = appKey ? { GITHUB_APP_ID: String(appId), GITHUB_APP_PRIVATE_KEY: appKey.privateKey } : { GITHUB_TOKEN: token };
    const githubGit = await startGitHttpServer(path.join(root, 'github'));
    stops.push(() => githubGit.close());
    const gitlabGit = await startGitHttpServer(path.join(root, 'gitlab'));
    stops.push(() => gitlabGit.close());
    const common = { GITFAAS_GIT_HOSTS: `${githubGit.url},${gitlabGit.url}`, GITFAAS_QUEUE_PREFIX: prefix, GITHUB_API_URL: github.url, ...credentials, GITLAB_URL: gitlab.url, GITLAB_TOKEN: gitlabToken };

    const webhooks = await startWebhooks(
      loadWebhooksConfig({ ...common, GITFAAS_WEBHOOKS_PORT: '0', GITHUB_WEBHOOK_SECRET: secret, GITLAB_WEBHOOK_SECRET: gitlabSecret, GITFAAS_ADMIN_PASSWORD: password, GITFAAS_RECONCILE: 'false', ...opts.webhooksEnv }),
      log.child({ svc: 'webhooks' }),
    );
    stops.push(() => webhooks.stop());
    const builder = await startBuilder(
      loadBuilderConfig({
        ...common,
        GITFAAS_STATE_DIR: path.join(root, 'state'),
        GITFAAS_TEMPLATE_NODE_IMAGE: `${REGISTRY}/gitfaas/node:20`,
        GITFAAS_TEMPLATE_PYTHON_IMAGE: `${REGISTRY}/gitfaas/debian:bookworm`,
        GITFAAS_WEBHOOKS_PUBLIC_URL: webhooks.url,
        ...opts.env,
      }),
      log.child({ svc: 'builder' }),
    );
    stops.push(() => builder.stop());
    const deployer = await startDeployer(
      loadDeployerConfig({
        ...common,
        GITFAAS_GATEWAY_URL: gateway.url,
        GITFAAS_ADMIN_PASSWORD: password,
        GITFAAS_DEPLOY_READY_TIMEOUT_MS: String(opts.readyTimeoutMs ?? 60_000),
        ...opts.env,
      }),
      log.child({ svc: 'deployer' }),
    );
    stops.push(() => deployer.stop());
    const redis = new Redis('redis://127.0.0.1:6379');
    stops.push(async () => redis.disconnect());
    const builds = new Queue(BUILDS_QUEUE, { connection: redis, prefix });
    stops.push(async () => {
      // Only this run's queues: the prefix is ours.
      await builds.obliterate({ force: true }).catch(() => {});
      const deploys = new Queue('deploys', { connection: redis, prefix });
      await deploys.obliterate({ force: true }).catch(() => {});
      await deploys.close();
      await builds.close();
      // Every gitfaas key of the run (seq numbers, memos, check-run ids, build logs and
      // history) lives under the prefix too.
      await deleteKeys(redis, [`${prefix}:*`]);
    });
    // Images this run built are tagged REGISTRY/<our namespace>/...; remove them locally.
    stops.unshift(async () => {
      await removeLocalImages(namespaces);
      await rm(root, { recursive: true, force: true });
    });

    return {
      gateway,
      github,
      gitlab,
      gitlabSecret,
      gitlabToken,
      webhooks,
      builder,
      deployer,
      builds,
      redis,
      secret,
      prefix,
      owner,
      namespace,
      async newRepo(name, o = {}) {
        const ghOwner = o.owner ?? owner;
        namespaces.add(ownerNamespace('github', ghOwner));
        const dir = path.join(root, `${name}-${randomBytes(3).toString('hex')}`);
        // TestRepo's constructor opens simple-git on dir/work, which must already exist.
        await mkdir(path.join(dir, 'work'), { recursive: true });
        const git = await TestRepo.create(dir, path.join(root, 'github', ghOwner, `${name}.git`));
        const payloadRepo: PayloadRepo = {
          owner: ghOwner,
          name,
          id: randomInt(1, 2 ** 31),
          cloneUrl: `${githubGit.url}/${ghOwner}/${name}.git`,
          defaultBranch: 'main',
          ...(opts.app ? { private: true, installationId: INSTALLATION_ID } : {}),
        };
        github.addRepository({ id: payloadRepo.id, owner: ghOwner, name, private: payloadRepo.private, installationId: payloadRepo.installationId });
        repoIds.push(payloadRepo.id);
        return {
          git,
          payloadRepo,
          commit: (files) => git.commit(files),
          push: (sha, o = {}) =>
            deliverGitHub(webhooks.url, 'push', pushPayload(payloadRepo, sha, o.branch), o.secret ?? secret, { deliveryId: o.deliveryId }),
          pullRequest: (sha, branch) => deliverGitHub(webhooks.url, 'pull_request', pullRequestPayload(payloadRepo, sha, branch, 'opened'), secret),
        };
      },
      async newGitLabRepo(name, o = {}) {
        const glOwner = o.owner ?? `gl${randomBytes(3).toString('hex')}`;
        const dir = path.join(root, `gl-${name}-${randomBytes(3).toString('hex')}`);
        await mkdir(path.join(dir, 'work'), { recursive: true });
        const git = await TestRepo.create(dir, path.join(root, 'gitlab', glOwner, `${name}.git`));
        const cloneUrl = `${gitlabGit.url}/${glOwner}/${name}.git`;
        if (o.private) gitlabGit.protect(`/${glOwner}/${name}.git`, { username: 'oauth2', password: gitlabToken });
        const project: GitLabTestProject = { owner: glOwner, name, id: randomInt(1, 2 ** 31), cloneUrl, defaultBranch: 'main', private: !!o.private };
        gitlab.addProject({ id: project.id, pathWithNamespace: `${glOwner}/${name}` });
        gitlabIds.push(project.id);
        const ns = ownerNamespace('gitlab', glOwner);
        namespaces.add(ns);
        return {
          git,
          project,
          namespace: ns,
          commit: (files) => git.commit(files),
          push: (sha, p = {}) =>
            deliverGitLab(webhooks.url, 'Push Hook', gitlabPushPayload(project, sha, p.branch), p.token === undefined ? gitlabSecret : p.token, { uuid: p.uuid }),
          mergeRequest: (sha, branch) => deliverGitLab(webhooks.url, 'Merge Request Hook', gitlabMergeRequestPayload(project, sha, branch), gitlabSecret),
        };
      },
      async call(fn, ns = namespace) {
        namespaces.add(ns);
        const res = await fetch(`${gateway.url}/function/${fn}.${ns}`);
        return { status: res.status, text: await res.text() };
      },
      settled: (sha, context = 'gitfaas') =>
        waitFor(
          `the ${context} status of ${sha.slice(0, 7)} to settle`,
          async () => github.statusesFor(sha, context).find((st) => st.state === 'success' || st.state === 'failure'),
          180_000,
          200,
        ),
      async admin(method, p, body, auth = gateway.authHeader) {
        const res = await fetch(`${webhooks.url}${p}`, {
          method,
          headers: { authorization: auth, ...(body ? { 'content-type': 'application/json' } : {}) },
          body: body ? JSON.stringify(body) : undefined,
        });
        const text = await res.text();
        return { status: res.status, text, json: () => JSON.parse(text) };
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** A node20 function answering `text`, in the OpenFaaS node20 handler signature. */
export function nodeHandler(text: string): string {
  return `'use strict';\nmodule.exports = async (event, context) => context.status(200).succeed(${JSON.stringify(text)});\n`;
}

export function stackYml(functions: Record<string, { lang: string; handler: string }>): string {
  const lines = ['version: 1.0', 'provider:', '  name: openfaas', '  gateway: http://127.0.0.1:8080', 'functions:'];
  for (const [name, fn] of Object.entries(functions)) {
    lines.push(`  ${name}:`, `    lang: ${fn.lang}`, `    handler: ${fn.handler}`, `    image: example/${name}:latest`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Removes the local copies of the images built into these namespaces. An image a running
 * container still uses stays (Docker refuses even with force): a test whose containers
 * outlive the stack (the Kubernetes stand-in's pods) calls this again once they are gone.
 */
export async function removeLocalImages(namespaces: Iterable<string>): Promise<void> {
  const docker = new Docker();
  const images = await docker.listImages({ filters: { reference: [...namespaces].map((ns) => `${REGISTRY}/${ns}/*`) } });
  for (const image of images) await docker.getImage(image.Id).remove({ force: true }).catch(() => {});
}
