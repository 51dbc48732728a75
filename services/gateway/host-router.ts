// Maps a request's host to an owner's functions: "<label>.<domain>/<fn>/<rest>" goes to
// function <fn> in the label's namespace (shared/owner-labels.ts: "alice" is gh-alice, and
// "gh-alice" itself) with path "/<rest>", the bare subdomain lists the
// owner's functions, and a custom domain (annotation com.gitfaas.domain) maps a whole
// host to one function. Anything else is not ours and falls through to the normal API.
import { isDnsLabel } from '../../shared/names.js';
import { namespaceOfLabel, type BareLabels } from '../../shared/owner-labels.js';

export type HostRoute =
  | { kind: 'function'; namespace: string; name: string; path: string }
  | { kind: 'index'; namespace: string }
  | { kind: 'not-found'; message: string };

export interface HostRouterOptions {
  /** e.g. "fn.example.com"; lower-case, no port, no trailing dot. */
  domain: string;
  /** Custom domains: host -> function, kept by the gateway from function annotations. */
  customDomains: ReadonlyMap<string, { name: string; namespace: string }>;
  /** Which git host's logins are bare labels (GITFAAS_BARE_LABELS); "none" when absent. */
  bareLabels?: BareLabels;
}

/** Lower-cases a Host header value and strips the port and a trailing dot; undefined if malformed. */
export function normaliseHost(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  let host = raw.trim().toLowerCase();
  if (host.startsWith('[')) return undefined; // IPv6 literal: never one of ours
  const colon = host.lastIndexOf(':');
  if (colon !== -1) {
    if (!/^\d{1,5}$/.test(host.slice(colon + 1))) return undefined;
    host = host.slice(0, colon);
  }
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (!/^[a-z0-9.-]+$/.test(host) || host.includes('..')) return undefined;
  return host;
}

/**
 * Splits "/fn/rest?query" into the function and the rest. The function segment must be a
 * DNS label: no dots, so a subdomain can never address another namespace ("fn.ns").
 */
function splitPath(path: string): { name: string; rest: string } | undefined {
  const match = /^\/([^/?#]+)(\/[^?#]*)?$/.exec(path);
  if (!match) return undefined;
  return { name: match[1]!, rest: match[2] ?? '/' };
}

/** Decides where a request goes, or undefined when the host is not a subdomain or custom domain. */
export function routeByHost(rawHost: string | undefined, path: string, options: HostRouterOptions): HostRoute | undefined {
  const host = normaliseHost(rawHost);
  if (!host) return undefined;
  const custom = options.customDomains.get(host);
  if (custom) return { kind: 'function', namespace: custom.namespace, name: custom.name, path };
  const suffix = `.${options.domain}`;
  if (!host.endsWith(suffix)) return undefined;
  const label = host.slice(0, -suffix.length);
  const namespace = namespaceOfLabel(label, options.bareLabels ?? 'none');
  if (namespace === undefined) {
    const form = options.bareLabels && options.bareLabels !== 'none' ? `<${options.bareLabels} login> or <owner namespace>` : '<owner namespace>';
    return { kind: 'not-found', message: `no owner at ${host}: expected ${form}.${options.domain}` };
  }
  if (path === '/' || path === '') return { kind: 'index', namespace };
  const parts = splitPath(path);
  if (!parts || !isDnsLabel(parts.name)) {
    return { kind: 'not-found', message: `no function at ${host}${path}: expected /<function>/<path>` };
  }
  return { kind: 'function', namespace, name: parts.name, path: parts.rest };
}
