// What a function looks like from its containers: its newest generation, desired and
// ready replicas, and its FunctionStatus.
import type { FunctionReplicas } from './replicas.js';
import { statusFromContainer } from './spec.js';
import { ProviderError, type FunctionStatus } from '../provider.js';

export function generationNow(): number {
  return Date.now();
}

export function newest(fn: FunctionReplicas): number {
  let max = 0;
  for (const r of fn.replicas.values()) if (!r.leaving && r.generation > max) max = r.generation;
  return max;
}

export function desired(fn: FunctionReplicas): number {
  const generation = newest(fn);
  let n = 0;
  for (const r of fn.replicas.values()) if (r.generation === generation && r.role === 'replica' && !r.leaving && !r.kept) n += 1;
  return n;
}

export function status(fn: FunctionReplicas): FunctionStatus | undefined {
  const generation = newest(fn);
  const current = [...fn.replicas.values()].find((r) => r.generation === generation && !r.leaving && r.info);
  if (!current?.info) return undefined;
  return { ...statusFromContainer(current.info), invocationCount: 0, replicas: desired(fn), availableReplicas: fn.endpoints.length };
}

export function notFound(name: string, namespace: string): ProviderError {
  return new ProviderError('not_found', `function "${name}" not found in namespace "${namespace}"`);
}
