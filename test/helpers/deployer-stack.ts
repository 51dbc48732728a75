// The deployer against a real test gateway (Docker provider), real Redis/BullMQ and the
// GitHub API stand-in: tests put deploy jobs on `queue` as the builder would.
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { DEPLOYS_QUEUE } from '../../shared/jobs.js';
import { silentLogger } from '../../shared/logger.js';
import type { RunningService } from '../../shared/run-service.js';
import { loadDeployerConfig } from '../../services/deployer/config.js';
import { startDeployer } from '../../services/deployer/service.js';
import { startFakeGitHub, type FakeGitHub } from '../fakes/github-api.js';
import { startTestGateway, type TestGateway } from './gateway.js';
import { fixtureImage } from './images.js';
import { deleteKeys } from './redis-keys.js';

export interface DeployerStack {
  gateway: TestGateway;
  fake: FakeGitHub;
  deployer: RunningService;
  redis: Redis;
  queue: Queue;
  /** The echo fixture's image, pushed to the registry. */
  image: string;
  /** Stops everything and deletes the prefix's Redis keys. */
  stop(): Promise<void>;
}

export async function startDeployerStack(opts: { prefix: string; token: string }): Promise<DeployerStack> {
  const image = await fixtureImage('echo');
  const gateway = await startTestGateway();
  const fake = await startFakeGitHub({ token: opts.token });
  const password = Buffer.from(gateway.authHeader.slice('Basic '.length), 'base64').toString().split(':').slice(1).join(':');
  const deployer = await startDeployer(
    loadDeployerConfig({
      GITFAAS_QUEUE_PREFIX: opts.prefix,
      GITFAAS_GATEWAY_URL: gateway.url,
      GITFAAS_ADMIN_PASSWORD: password,
      GITFAAS_DEPLOY_READY_TIMEOUT_MS: '8000',
      GITHUB_API_URL: fake.url,
      GITHUB_TOKEN: opts.token,
    }),
    silentLogger(),
  );
  const redis = new Redis('redis://127.0.0.1:6379');
  const queue = new Queue(DEPLOYS_QUEUE, { connection: redis, prefix: opts.prefix });
  return {
    gateway,
    fake,
    deployer,
    redis,
    queue,
    image,
    stop: async () => {
      await deployer.stop();
      await queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
      await gateway.stop();
      await fake.stop();
      await deleteKeys(redis, [`${opts.prefix}:*`]);
      redis.disconnect();
    },
  };
}
