// The URL a success status links a deployed function with. With GITFAAS_DOMAIN set, the
// owner's subdomain (the gateway routes Host <label>.<domain> and path /<function>/ to that
// function; the label is the bare login where GITFAAS_BARE_LABELS allows, see
// shared/owner-labels.ts); without it, the gateway's /function/<name>.<namespace>.
import { labelOfNamespace } from '../../shared/owner-labels.js';
import type { DeployerConfig } from './config.js';

export type FunctionUrl = (name: string, namespace: string) => string;

export function functionUrlFor(config: Pick<DeployerConfig, 'publicUrl' | 'domain'>): FunctionUrl {
  const { domain } = config;
  if (!domain) return (name, namespace) => `${config.publicUrl}/function/${name}.${namespace}`;
  const port = domain.port === undefined ? '' : `:${domain.port}`;
  return (name, namespace) => `${domain.scheme}://${labelOfNamespace(namespace, domain.bareLabels ?? 'none')}.${domain.name}${port}/${name}`;
}
