// The Docker backend's own variables (GITFAAS_PROVIDER=docker); the gateway's schema holds
// none of them (see docs/configuration.md, "Docker provider").
import { z } from 'zod';
import { bindVar, parseEnv, type Env } from '../../../../shared/config.js';

const schema = z
  .object({
    GITFAAS_DOCKER_SOCKET: z.string().min(1, 'expected the path of the Docker engine socket').default('/var/run/docker.sock'),
    GITFAAS_FUNCTION_HOST: bindVar,
  })
  .transform((env) => ({
    socketPath: env.GITFAAS_DOCKER_SOCKET,
    /** The host address function ports are published on (loopback). */
    functionHost: env.GITFAAS_FUNCTION_HOST,
  }));

export type DockerConfig = z.output<typeof schema>;

export function loadDockerConfig(env: Env = process.env): DockerConfig {
  return parseEnv(schema, env);
}
