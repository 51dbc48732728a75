// The provider contract: what the gateway needs from whatever runs function replicas.
// The types are neutral and shaped like OpenFaaS's FunctionDeployment and FunctionStatus
// (faas-provider/types); no Docker or Kubernetes type crosses this file. Docker
// (docker/) and Kubernetes (kubernetes/) implement it side by side and pass the same
// conformance suite.
import type { FunctionDeployment, FunctionStatus, LogMessage, Secret } from '../../../shared/openfaas-types.js';

// The wire types are shared with the deployer and the queue-worker (shared/); re-exported
// here so backends import the whole contract from one file.
export type { FunctionDeployment, FunctionResources, FunctionStatus, FunctionUsage, LogMessage, Secret } from '../../../shared/openfaas-types.js';

/** A deployment whose namespace has been settled by the gateway. */
export type NamespacedDeployment = FunctionDeployment & { namespace: string };

/** One ready replica the gateway can send a request to. */
export interface Endpoint {
  /** Stable id of the replica (container id, pod name). */
  id: string;
  /** Base URL, e.g. http://127.0.0.1:49153 */
  url: string;
}

export interface LogRequest {
  name: string;
  namespace: string;
  follow: boolean;
  /** Number of most recent lines; undefined or negative means all. */
  tail?: number;
  since?: Date;
  signal: AbortSignal;
}

// The error is shared with the dashboard, which maps the same codes (shared/provider-error.ts).
export { ProviderError, type ProviderErrorCode } from '../../../shared/provider-error.js';

export interface ProviderInfo {
  name: string;
  orchestration: string;
  version: string;
}

export interface Provider {
  readonly info: ProviderInfo;
  /** Creates a function; conflict when it exists, image when the image cannot be had. Resolves once at least one replica is ready. */
  deploy(deployment: NamespacedDeployment): Promise<void>;
  /** Rolling update: new replicas ready before old ones go; not_found when absent. */
  update(deployment: NamespacedDeployment): Promise<void>;
  remove(name: string, namespace: string): Promise<void>;
  get(name: string, namespace: string): Promise<FunctionStatus | undefined>;
  list(namespace: string): Promise<FunctionStatus[]>;
  /** Every namespace that holds at least one function. */
  namespaces(): Promise<string[]>;
  scale(name: string, namespace: string, replicas: number): Promise<void>;
  /**
   * Ready replicas of a function, from memory: this is on the proxy's hot path and must
   * not call the backend. Undefined when the function is unknown; empty when it exists
   * but has no ready replica.
   */
  endpoints(name: string, namespace: string): readonly Endpoint[] | undefined;
  logs(request: LogRequest): AsyncIterable<LogMessage>;
  listSecrets(namespace: string): Promise<Secret[]>;
  createSecret(secret: Secret): Promise<void>;
  updateSecret(secret: Secret): Promise<void>;
  removeSecret(name: string, namespace: string): Promise<void>;
  /**
   * Calls `listener` for every change from now on, synchronously and in order; returns the
   * unsubscribe function. A new subscriber is first told `added` for every function known
   * (and `ready` for those with ready replicas), so it sees what it would have seen had it
   * been there from the start. Backends build it on change-feed.ts.
   */
  onChange(listener: (change: FunctionChange) => void): () => void;
  /**
   * Resolves with the ready endpoints as soon as the function has at least one (at once
   * when it already has). Rejects with ProviderError not_found when the function is unknown
   * or removed meanwhile, timeout after `timeoutMs`, and the signal's reason when aborted.
   */
  waitUntilReady(name: string, namespace: string, options: { timeoutMs: number; signal?: AbortSignal }): Promise<readonly Endpoint[]>;
  /**
   * Optional: whether the backend's in-memory picture is current. A backend that serves the
   * proxy from a watch (Kubernetes) says here why it is not (API server unreachable); /healthz
   * reports it.
   */
  health?(): { ok: boolean; reason?: string };
  /** Stops watching the backend; leaves the replicas running. Pending waits reject (unavailable). */
  close(): Promise<void>;
}

/**
 * What changed about one function, as a backend sees it (its own writes and everyone
 * else's: another gateway replica, kubectl, a replica dying). `added` and `changed` carry
 * the function's status as `get` would answer it (`changed` only when more than the replica
 * counters moved); `ready` says how many replicas now take traffic, whenever that number
 * changes.
 */
export type FunctionChange =
  | { kind: 'added' | 'changed'; function: FunctionStatus }
  | { kind: 'removed'; name: string; namespace: string }
  | { kind: 'ready'; name: string; namespace: string; ready: number };

/** The feed part of the contract alone, for code that needs nothing else. */
export type ProviderFeed = Pick<Provider, 'onChange' | 'waitUntilReady'>;
