// The Docker provider against the real engine and registry, through the shared suite.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { dockerEngine } from '../../../../shared/docker-engine.js';
import { silentLogger } from '../../../../shared/logger.js';
import { fixtureImage } from '../../../../test/helpers/images.js';
import { providerConformance } from '../conformance.js';
import { DockerProvider } from './provider.js';

providerConformance('docker', async () => {
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'gitfaas-docker-'));
  const namespace = `t-${randomBytes(5).toString('hex')}`;
  const options = {
    log: silentLogger(),
    functionHost: '127.0.0.1',
    instance: `test-${process.pid}-${randomBytes(4).toString('hex')}`,
    stateDir,
    startTimeoutMs: 20_000,
    maxReplicas: 5,
    drainTimeoutMs: 5_000,
  };
  const provider = await DockerProvider.start(options);
  const others: DockerProvider[] = [];
  return {
    provider,
    image: await fixtureImage('echo'),
    namespace,
    async another() {
      const other = await DockerProvider.start(options);
      others.push(other);
      return other;
    },
    async killReplica(endpoint) {
      await dockerEngine().getContainer(endpoint.id).kill();
    },
    async cleanup() {
      for (const fn of await provider.list(namespace)) await provider.remove(fn.name, namespace).catch(() => undefined);
      for (const other of others) await other.close();
      await provider.close();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
});
