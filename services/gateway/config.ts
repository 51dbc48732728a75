// Gateway configuration, read once from the environment (see docs/configuration.md).
import { z } from 'zod';
import { adminCredentialsEnv, adminPassword } from '../../shared/admin-credentials.js';
import { bareLabelsVar } from '../../shared/owner-labels.js';
import {
  bindVar,
  booleanVar,
  durationMsVar,
  logLevelVar,
  logFormatVar,
  parseEnv,
  portVar,
  positiveIntVar,
  redisUrlVar,
  stateDirVar,
  withSecrets,
  type Env,
} from '../../shared/config.js';
import { DEFAULT_NAMESPACE, dnsLabelProblem, isDnsLabel } from '../../shared/names.js';
import { queuePrefixVar } from '../../shared/queue-prefix.js';
import { loadBackendConfig, type BackendConfig } from './providers/backends.js';
import { asyncGatewayEnv, asyncGatewaySettings } from './async-config.js';
import { zeroEnv, zeroSettings } from './zero/config.js';
import { autoscaleEnv, autoscaleProblem, autoscaleSettings } from './autoscale/config.js';
import { gatewayProcessesVar } from './cluster/processes.js';

const namespaceVar = z
  .string()
  .default(DEFAULT_NAMESPACE)
  .superRefine((value, ctx) => {
    const problem = dnsLabelProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: `the namespace ${problem}` });
  });

const instanceVar = z
  .string()
  .default('default')
  .superRefine((value, ctx) => {
    const problem = dnsLabelProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: `the instance name ${problem}` });
  });

const domainVar = z
  .string()
  .default('localhost')
  .transform((v) => v.trim().toLowerCase().replace(/\.$/, ''))
  .refine((v) => v.length <= 253 && v.split('.').every(isDnsLabel), {
    message: 'expected a domain name such as fn.example.com or localhost (no scheme, no port)',
  });

const schema = z
  .object({
    GITFAAS_BIND: bindVar,
    GITFAAS_GATEWAY_PORT: portVar(8080),
    GITFAAS_LOG_LEVEL: logLevelVar,
    GITFAAS_LOG_FORMAT: logFormatVar,
    GITFAAS_STATE_DIR: stateDirVar,
    ...adminCredentialsEnv,
    GITFAAS_DEFAULT_NAMESPACE: namespaceVar,
    GITFAAS_FUNCTION_TIMEOUT_MS: durationMsVar(60_000),
    GITFAAS_MAX_REPLICAS: positiveIntVar(20),
    GITFAAS_REPLICA_START_TIMEOUT_MS: durationMsVar(30_000),
    GITFAAS_DOMAIN: domainVar,
    GITFAAS_BARE_LABELS: bareLabelsVar,
    GITFAAS_TRUST_PROXY: booleanVar(false),
    GITFAAS_INSTANCE: instanceVar,
    GITFAAS_SYSTEM_BODY_LIMIT_BYTES: positiveIntVar(4 * 1024 * 1024),
    GITFAAS_METRICS: booleanVar(true),
    GITFAAS_FAST_PLANE: booleanVar(true),
    GITFAAS_GATEWAY_PROCESSES: gatewayProcessesVar,
    GITFAAS_REDIS_URL: redisUrlVar,
    GITFAAS_QUEUE_PREFIX: queuePrefixVar,
    ...asyncGatewayEnv,
    ...zeroEnv,
    ...autoscaleEnv,
  })
  .superRefine((env, ctx) => {
    const problem = autoscaleProblem(env);
    if (problem) ctx.addIssue({ code: 'custom', path: [problem.variable], message: problem.message });
  })
  .transform((env) => ({
    bind: env.GITFAAS_BIND,
    port: env.GITFAAS_GATEWAY_PORT,
    logLevel: env.GITFAAS_LOG_LEVEL,
    logFormat: env.GITFAAS_LOG_FORMAT,
    stateDir: env.GITFAAS_STATE_DIR,
    adminUser: env.GITFAAS_ADMIN_USER,
    adminPassword: adminPassword(env.GITFAAS_ADMIN_PASSWORD, env.GITFAAS_STATE_DIR),
    defaultNamespace: env.GITFAAS_DEFAULT_NAMESPACE,
    functionTimeoutMs: env.GITFAAS_FUNCTION_TIMEOUT_MS,
    maxReplicas: env.GITFAAS_MAX_REPLICAS,
    startTimeoutMs: env.GITFAAS_REPLICA_START_TIMEOUT_MS,
    /** Owner subdomains live under this: <namespace>.<domain>. */
    domain: env.GITFAAS_DOMAIN,
    /** Whose logins are bare labels: alice.<domain> is namespace gh-alice (shared/owner-labels.ts). */
    bareLabels: env.GITFAAS_BARE_LABELS,
    /** Honour X-Forwarded-Host (and -Proto) from a reverse proxy in front of the gateway. */
    trustProxy: env.GITFAAS_TRUST_PROXY,
    /** Only containers labelled com.gitfaas.instance=<instance> are this gateway's. */
    instance: env.GITFAAS_INSTANCE,
    /** The largest request body /system/* reads; a larger one is answered 413 unread. */
    systemBodyLimitBytes: env.GITFAAS_SYSTEM_BODY_LIMIT_BYTES,
    /** OpenFaaS's per-call metrics at /metrics (started, in flight, latency histogram, replicas). */
    metrics: env.GITFAAS_METRICS,
    /** Simple function calls on raw sockets ahead of node's http module (fast-plane.ts); off: node serves all. */
    fastPlane: env.GITFAAS_FAST_PLANE,
    /** Gateway processes sharing the port (services/gateway/cluster/); 1 runs in this process. */
    processes: env.GITFAAS_GATEWAY_PROCESSES,
    /** The installation's Redis (owner tokens, autoscaler leases) and its key prefix. */
    redisUrl: env.GITFAAS_REDIS_URL,
    queuePrefix: env.GITFAAS_QUEUE_PREFIX,
    async: asyncGatewaySettings(env),
    /** The idler and the waker (zero/): GITFAAS_ZERO_TICK_MS, GITFAAS_WAKE_QUEUE_LIMIT. */
    zero: zeroSettings(env),
    /** The autoscaler (services/gateway/autoscale): GITFAAS_AUTOSCALE*. */
    autoscale: autoscaleSettings(env),
  }));

export type GatewayConfig = z.output<typeof schema> & {
  /** GITFAAS_PROVIDER and that backend's own variables (providers/backends.ts). */
  provider: BackendConfig;
};

export { adminPasswordFile } from '../../shared/admin-credentials.js';

export function loadGatewayConfig(env: Env = process.env): GatewayConfig {
  const config = parseEnv(schema, withSecrets(env, ['GITFAAS_ADMIN_PASSWORD']));
  return { ...config, provider: loadBackendConfig(env) };
}
