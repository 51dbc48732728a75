// Kubernetes-style resource quantities ("128Mi", "0.5", "500m") as Docker wants them.
import { ProviderError } from './provider.js';

const MEMORY_UNITS: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

/** Bytes from "128Mi", "1G", "67108864"; ProviderError('invalid') otherwise. */
export function memoryBytes(quantity: string, field: string): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(quantity.trim());
  if (!match) throw new ProviderError('invalid', `${field} "${quantity}" is not a memory quantity such as 128Mi or 1Gi`);
  const bytes = Math.round(Number(match[1]) * MEMORY_UNITS[match[2] ?? '']);
  if (bytes < 6 * 2 ** 20) throw new ProviderError('invalid', `${field} "${quantity}" is below Docker's minimum of 6Mi`);
  return bytes;
}

/** Billionths of a CPU from "500m", "0.5", "2"; ProviderError('invalid') otherwise. */
export function nanoCpus(quantity: string, field: string): number {
  const match = /^(\d+(?:\.\d+)?)(m)?$/.exec(quantity.trim());
  if (!match) throw new ProviderError('invalid', `${field} "${quantity}" is not a CPU quantity such as 500m or 1`);
  const cpus = Number(match[1]) / (match[2] ? 1000 : 1);
  if (cpus <= 0) throw new ProviderError('invalid', `${field} "${quantity}" must be above 0`);
  return Math.round(cpus * 1e9);
}
