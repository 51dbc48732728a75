// The one place a backend is chosen: GITFAAS_PROVIDER names an entry of `backends`, whose
// own schema reads its own variables. Nothing else in the gateway knows which one runs.
// A new backend (kubernetes/) exports a Backend and adds one line to `backends`.
import { z } from 'zod';
import { parseEnv, type Env } from '../../../shared/config.js';
import type { Logger } from '../../../shared/logger.js';
import { dockerBackend } from './docker/backend.js';
import type { Provider } from './provider.js';

/** What the gateway hands every backend: settings that are not one backend's business. */
export interface BackendContext {
  log: Logger;
  /** GITFAAS_INSTANCE: only this instance's functions are seen. */
  instance: string;
  stateDir: string;
  /** How long a new replica may take to become ready before deploy/update/scale fails. */
  startTimeoutMs: number;
  maxReplicas: number;
  /** How long in-flight calls on a leaving replica may run before it stops. */
  drainTimeoutMs: number;
  /** True when the proxy has no call in flight to an endpoint. */
  isIdle: (endpointId: string) => boolean;
}

export interface Backend<Config> {
  /** Reads and checks the backend's own variables; a ConfigError naming the variable otherwise. */
  loadConfig(env: Env): Config;
  /** Connects and builds the picture of every function; a start-up error naming the fix otherwise. */
  create(config: Config, ctx: BackendContext): Promise<Provider>;
}

export const backends = {
  docker: dockerBackend,
} as const;

export type BackendName = keyof typeof backends;

type ConfigOf<N extends BackendName> = (typeof backends)[N] extends Backend<infer C> ? C : never;

/** The chosen backend and its settings, e.g. { name: 'docker', settings: { socketPath, functionHost } }. */
export type BackendConfig = { [N in BackendName]: { name: N; settings: ConfigOf<N> } }[BackendName];

const names = Object.keys(backends) as [BackendName, ...BackendName[]];
const schema = z.object({
  GITFAAS_PROVIDER: z.enum(names, { message: `expected one of ${names.join(', ')}` }).default('docker'),
});

export function loadBackendConfig(env: Env): BackendConfig {
  const name = parseEnv(schema, env).GITFAAS_PROVIDER;
  return { name, settings: backends[name].loadConfig(env) } as BackendConfig;
}

export function startBackend(config: BackendConfig, ctx: BackendContext): Promise<Provider> {
  const backend = backends[config.name] as Backend<BackendConfig['settings']>;
  return backend.create(config.settings, ctx);
}
