// Kubernetes-style resource quantities as Docker wants them. Parsing is shared/quantity.ts's;
// here are only Docker's units and limits, and the provider's error.
import { parseCpu, parseMemory } from '../../../shared/quantity.js';
import { ProviderError } from './provider.js';

/** Docker refuses a memory limit below 6 MiB. */
const DOCKER_MIN_MEMORY = 6 * 2 ** 20;

/** Bytes from "128Mi", "1G", "67108864"; ProviderError('invalid') otherwise. */
export function memoryBytes(quantity: string, field: string): number {
  const bytes = parseMemory(quantity);
  if (bytes === undefined) throw new ProviderError('invalid', `${field} "${quantity}" is not a memory quantity such as 128Mi or 1Gi`);
  if (bytes < DOCKER_MIN_MEMORY) throw new ProviderError('invalid', `${field} "${quantity}" is below Docker's minimum of 6Mi`);
  return bytes;
}

/** Billionths of a CPU (Docker's NanoCpus) from "500m", "0.5", "2"; ProviderError('invalid') otherwise. */
export function nanoCpus(quantity: string, field: string): number {
  const cpus = parseCpu(quantity);
  if (cpus === undefined) throw new ProviderError('invalid', `${field} "${quantity}" is not a CPU quantity such as 500m or 1`);
  if (cpus <= 0) throw new ProviderError('invalid', `${field} "${quantity}" must be above 0`);
  return Math.round(cpus * 1e9);
}
