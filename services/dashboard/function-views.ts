// What the dashboard shows of a function: the provider's status reduced to the fields the
// page needs. Secret values never reach the page: only secret names, and env vars whose
// name says secret are masked (stack.yml should use secrets for those, but some do not).
import type { FunctionStatus } from '../../shared/openfaas-types.js';
import type { CallFigures, CallPoint } from './call-stats.js';

const SHA = 'com.openfaas.cloud.git-sha';
const DEPLOY_TIME = 'com.openfaas.cloud.git-deploytime';
const SECRET_NAME = /secret|token|password|passwd|private|credential|api[_-]?key/i;

export interface FunctionSummary {
  name: string;
  namespace: string;
  image: string;
  gitSha: string | null;
  gitRepo: string | null;
  replicas: number;
  availableReplicas: number;
  invocations: number;
  /** Rate, error rate and p50 / p99 latency of the last minute, through this gateway process. */
  lastMinute: CallFigures;
  /** ISO time of the last deploy: the deploy-time label, else when the replicas were created. */
  lastDeploy: string | null;
}

export interface FunctionDetail extends FunctionSummary {
  envProcess: string | null;
  envVars: Record<string, string>;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  secrets: string[];
  limits: FunctionStatus['limits'] | null;
  /** The last 3 minutes in 5-second points, for the chart. */
  series: CallPoint[];
}

function deployTime(status: FunctionStatus): string | null {
  const label = status.labels?.[DEPLOY_TIME];
  if (label) {
    // OpenFaaS Cloud writes seconds since the epoch; accept an ISO time too.
    const asNumber = Number(label);
    const date = Number.isFinite(asNumber) ? new Date(asNumber * (asNumber < 1e12 ? 1000 : 1)) : new Date(label);
    if (!Number.isNaN(date.getTime())) return date.toISOString();
  }
  return status.createdAt ?? null;
}

export function summarise(status: FunctionStatus, invocations: number, lastMinute: CallFigures): FunctionSummary {
  return {
    name: status.name,
    namespace: status.namespace,
    image: status.image,
    gitSha: status.labels?.[SHA] ?? null,
    gitRepo: status.labels?.['com.openfaas.cloud.git-repo'] ?? null,
    replicas: status.replicas ?? 0,
    availableReplicas: status.availableReplicas ?? 0,
    invocations,
    lastMinute,
    lastDeploy: deployTime(status),
  };
}

export function detail(status: FunctionStatus, invocations: number, lastMinute: CallFigures, series: CallPoint[]): FunctionDetail {
  const envVars: Record<string, string> = {};
  for (const [key, value] of Object.entries(status.envVars ?? {})) envVars[key] = SECRET_NAME.test(key) ? '••••••' : value;
  return {
    ...summarise(status, invocations, lastMinute),
    envProcess: status.envProcess ?? null,
    envVars,
    labels: status.labels ?? {},
    annotations: status.annotations ?? {},
    secrets: status.secrets ?? [],
    limits: status.limits ?? null,
    series,
  };
}
