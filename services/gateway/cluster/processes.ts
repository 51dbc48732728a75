// GITFAAS_GATEWAY_PROCESSES: how many gateway processes share the port. "auto" (the default)
// is one per core but one, at most 8: the functions, the other services and the load need
// a core too, so on 2 cores it is 1 (measured: see docs/performance.md).
import { availableParallelism } from 'node:os';
import { z } from 'zod';

export const MAX_GATEWAY_PROCESSES = 64;

export function autoProcesses(cores = availableParallelism()): number {
  return Math.max(1, Math.min(8, cores - 1));
}

export const gatewayProcessesVar = z
  .string()
  .default('auto')
  .transform((value, ctx) => {
    const v = value.trim();
    if (v === 'auto' || v === '') return autoProcesses();
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > MAX_GATEWAY_PROCESSES) {
      ctx.addIssue({ code: 'custom', message: `expected "auto" or a whole number from 1 to ${MAX_GATEWAY_PROCESSES}` });
      return z.NEVER;
    }
    return n;
  });
