// The URL a success status links a deployed function with. With GITFAAS_DOMAIN set, the
// owner's subdomain (the gateway routes Host <namespace>.<domain> and path /<function>/
// to that function); without it, the gateway's /function/<name>.<namespace>.
import type { DeployerConfig } from './config.js';

export type FunctionUrl = (name: string, namespace: string) => string;

export function functionUrlFor(config: Pick<DeployerConfig, 'publicUrl' | 'domain'>): FunctionUrl {
  const { domain } = config;
  if (!domain) return (name, namespace) => `${config.publicUrl}/function/${name}.${namespace}`;
  const port = domain.port === undefined ? '' : `:${domain.port}`;
  return (name, namespace) => `${domain.scheme}://${namespace}.${domain.name}${port}/${name}`;
}
