// stack.yml's `secrets:` names secrets that must already exist in the owner's namespace
// (created with faas-cli secret create or POST /system/secrets). A commit naming one that
// does not is not deployed: without this check the Docker provider's bind mount would
// create an empty directory in the secret's place and the function would start broken.
import type { DeployJob } from '../../shared/jobs.js';
import type { GatewayClient } from '../../shared/gateway-client.js';

/** One line per function naming secrets its namespace lacks; empty when all exist. */
export async function missingSecrets(job: DeployJob, gateway: Pick<GatewayClient, 'secretNames'>): Promise<Record<string, string>> {
  const wanted = job.functions.filter((f) => f.secrets.length > 0);
  if (wanted.length === 0) return {};
  const { namespace } = job.build.source;
  const existing = new Set(await gateway.secretNames(namespace));
  const problems: Record<string, string> = {};
  for (const fn of wanted) {
    const missing = fn.secrets.filter((s) => !existing.has(s));
    if (missing.length === 0) continue;
    const names = missing.map((s) => `"${s}"`).join(', ');
    problems[fn.name] = `secret${missing.length > 1 ? 's' : ''} ${names} not found in namespace ${namespace}: create ${missing.length > 1 ? 'them' : 'it'} with faas-cli secret create --namespace ${namespace}`;
  }
  return problems;
}
