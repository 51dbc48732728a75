// What the dashboard needs from the gateway that mounts it, declared here as narrow ports
// so the dependency points one way: the dashboard never imports the gateway's files; the
// wiring (services/gateway-with-dashboard.ts) hands in the gateway's own objects, which fit these
// shapes as they are (structural typing). Errors: a port fails with shared/provider-error.ts's
// ProviderError, whose codes the dashboard maps to statuses.
import type { FunctionStatus, LogMessage, Secret } from '../../shared/openfaas-types.js';

/** The functions of the namespaces the dashboard shows: read, scale, follow logs. */
export interface FunctionsPort {
  /** Every namespace that holds at least one function. */
  namespaces(): Promise<string[]>;
  list(namespace: string): Promise<FunctionStatus[]>;
  get(name: string, namespace: string): Promise<FunctionStatus | undefined>;
  scale(name: string, namespace: string, replicas: number): Promise<void>;
  logs(request: { name: string; namespace: string; follow: boolean; tail?: number; signal: AbortSignal }): AsyncIterable<LogMessage>;
}

/** A namespace's secrets: names listed, values written and never read back. */
export interface SecretsPort {
  listSecrets(namespace: string): Promise<Secret[]>;
  createSecret(secret: Secret): Promise<void>;
  updateSecret(secret: Secret): Promise<void>;
  removeSecret(name: string, namespace: string): Promise<void>;
}

/** The gateway's invocation counts (every gateway process's after refresh()). */
export interface InvocationCounts {
  /** Brings total() up to date (sums the other gateway processes' counts, if any). */
  refresh(): Promise<void>;
  total(name: string, namespace: string): number;
}

/** What the dashboard offers the host's proxy: told of every answered call, synchronously and cheaply. */
export interface CallListener {
  called(fn: string, status: number, ms: number): void;
}
