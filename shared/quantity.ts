// Kubernetes-style resource quantities, as stack.yml and OpenFaaS use them.

const MEMORY_UNITS: Record<string, number> = {
  '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12,
  Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4,
};

/** "128Mi" -> 134217728 bytes; undefined when malformed. */
export function parseMemory(value: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)([kKMGT]i?|)$/.exec(value.trim());
  if (!match) return undefined;
  const unit = MEMORY_UNITS[match[2]!];
  return unit === undefined ? undefined : Math.round(Number(match[1]) * unit);
}

/** "500m" -> 0.5 CPUs, "2" -> 2; undefined when malformed. */
export function parseCpu(value: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(m?)$/.exec(value.trim());
  if (!match) return undefined;
  const amount = Number(match[1]);
  return match[2] === 'm' ? amount / 1000 : amount;
}
