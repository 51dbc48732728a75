// The Docker backend's own variables (GITFAAS_PROVIDER=docker); the gateway's schema holds
// none of them (see docs/configuration.md, "Docker provider").
import { z } from 'zod';
import { bindVar, parseEnv, type Env } from '../../../../shared/config.js';
import { KEEP_MODES } from './keep.js';

const schema = z
  .object({
    GITFAAS_DOCKER_SOCKET: z.string().min(1, 'expected the path of the Docker engine socket').default('/var/run/docker.sock'),
    GITFAAS_FUNCTION_HOST: bindVar,
    GITFAAS_ZERO_KEEP: z.enum(KEEP_MODES, { message: `expected one of ${KEEP_MODES.join(', ')}` }).default('paused'),
  })
  .transform((env) => ({
    socketPath: env.GITFAAS_DOCKER_SOCKET,
    /** The host address function ports are published on (loopback). */
    functionHost: env.GITFAAS_FUNCTION_HOST,
    /** What a function at zero keeps (keep.ts; docs/autoscaling.md, "Scale to zero"). */
    keep: env.GITFAAS_ZERO_KEEP,
  }));

export type DockerConfig = z.output<typeof schema>;

export function loadDockerConfig(env: Env = process.env): DockerConfig {
  return parseEnv(schema, env);
}
