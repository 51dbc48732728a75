// The OpenFaaS wire types (faas-provider/types, logs.Message), as the gateway's REST API
// sends and receives them. One definition for the gateway (providers/provider.ts), the
// deployer and the queue-worker, which call that API (shared/gateway-client.ts).

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

