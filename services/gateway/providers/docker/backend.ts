// The Docker backend as backends.ts registers it: its config and how to start it.
import type { Backend } from '../backends.js';
import { loadDockerConfig, type DockerConfig } from './config.js';
import { DockerProvider } from './provider.js';

export const dockerBackend: Backend<DockerConfig> = {
  loadConfig: loadDockerConfig,
  create: (config, ctx) =>
    DockerProvider.start({
      log: ctx.log,
      socketPath: config.socketPath,
      functionHost: config.functionHost,
      instance: ctx.instance,
      stateDir: ctx.stateDir,
      startTimeoutMs: ctx.startTimeoutMs,
      maxReplicas: ctx.maxReplicas,
      drainTimeoutMs: ctx.drainTimeoutMs,
      isIdle: ctx.isIdle,
      keep: config.keep,
    }),
};
