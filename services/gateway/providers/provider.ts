// The provider contract: what the gateway needs from whatever runs function replicas.
// The types are neutral and shaped like OpenFaaS's FunctionDeployment and FunctionStatus
// (faas-provider/types); no Docker or Kubernetes type crosses this file. Docker
// (docker/) and Kubernetes (kubernetes/) implement it side by side and pass the same
// conformance suite.

export interface FunctionResources {
  /** Kubernetes-style quantity, e.g. "128Mi", "1Gi". */
  memory?: string;
  /** Kubernetes-style quantity, e.g. "500m", "1". */
  cpu?: string;
}

/** The body of POST/PUT /system/functions (OpenFaaS FunctionDeployment). */
export interface FunctionDeployment {
  service: string;
  image: string;
  namespace?: string;
  envProcess?: string;
  envVars?: Record<string, string>;
  constraints?: string[];
  secrets?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  limits?: FunctionResources;
  requests?: FunctionResources;
  readOnlyRootFilesystem?: boolean;
}

/** A deployment whose namespace has been settled by the gateway. */
export type NamespacedDeployment = FunctionDeployment & { namespace: string };

export interface FunctionUsage {
  cpu?: number;
  totalMemoryBytes?: number;
}

/** GET /system/functions items (OpenFaaS FunctionStatus). */
export interface FunctionStatus {
  name: string;
  image: string;
  namespace: string;
  envProcess?: string;
  envVars?: Record<string, string>;
  constraints?: string[];
  secrets?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  limits?: FunctionResources;
  requests?: FunctionResources;
  readOnlyRootFilesystem?: boolean;
  invocationCount: number;
  /** Desired replicas. OpenFaaS omits the key at 0 (omitempty); the HTTP layer does too. */
  replicas: number;
  availableReplicas: number;
  createdAt?: string;
  usage?: FunctionUsage;
}

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

/** One line of GET /system/logs (faas-provider/logs.Message). */
export interface LogMessage {
  name: string;
  namespace: string;
  instance: string;
  timestamp: string;
  text: string;
}

export interface Secret {
  name: string;
  namespace: string;
  /** Text, or bytes (faas-cli's rawValue, e.g. --from-file). */
  value?: string | Uint8Array;
}

export type ProviderErrorCode = 'invalid' | 'not_found' | 'conflict' | 'image' | 'timeout' | 'unavailable';

/** The only error a provider throws on purpose; the HTTP layer maps code to a status. */
export class ProviderError extends Error {
  override name = 'ProviderError';
  constructor(
    readonly code: ProviderErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

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
  /** Stops watching the backend; leaves the replicas running. */
  close(): Promise<void>;
}

/**
 * What changed about one function, as a backend sees it (its own writes and everyone
 * else's: another gateway replica, kubectl, a replica dying). `added` and `changed` carry
 * the function's status as `get` would answer it; `ready` says how many replicas now take
 * traffic.
 */
export type FunctionChange =
  | { kind: 'added' | 'changed'; function: FunctionStatus }
  | { kind: 'removed'; name: string; namespace: string }
  | { kind: 'ready'; name: string; namespace: string; ready: number };

/**
 * The change feed and readiness wait a second backend and several gateways need (issue 9
 * §1). To be merged into Provider once the Docker backend implements it.
 */
export interface ProviderFeed {
  /**
   * Calls `listener` for every change from now on, synchronously and in order; returns the
   * unsubscribe function. A new subscriber is first told `added` for every function known.
   */
  onChange(listener: (change: FunctionChange) => void): () => void;
  /**
   * Resolves with the ready endpoints as soon as the function has at least one (at once
   * when it already has). Rejects with ProviderError not_found when the function is unknown
   * or removed meanwhile, timeout after `timeoutMs`, and the signal's reason when aborted.
   */
  waitUntilReady(name: string, namespace: string, options: { timeoutMs: number; signal?: AbortSignal }): Promise<readonly Endpoint[]>;
}
