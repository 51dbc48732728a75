// Requests by host, ahead of the normal API: owner subdomains (<namespace>.<domain>) and
// custom domains go to functions through the proxy; a bare owner subdomain lists that
// owner's functions. Such a request never reaches /system or any other API route, and
// never another namespace. Works on node's raw request; a host seen before that is not
// ours costs one Set lookup.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../shared/logger.js';
import type { BareLabels } from '../../shared/owner-labels.js';
import type { DomainClaims } from './domains.js';
import { routeByHost, type HostRoute } from './host-router.js';
import type { Provider } from './providers/provider.js';
import type { FunctionTarget, ProxyHandler } from './proxy.js';

export interface HostRoutesOptions {
  /** Owner subdomains live under it (GITFAAS_DOMAIN). */
  domain: string;
  /** Which git host's logins are bare subdomain labels (GITFAAS_BARE_LABELS). */
  bareLabels: BareLabels;
  /** Honour X-Forwarded-Host / X-Forwarded-Proto (GITFAAS_TRUST_PROXY). */
  trustProxy: boolean;
  claims: DomainClaims;
  provider: Provider;
  proxy: ProxyHandler;
  log: Logger;
}

/** Handles the request and returns true when its host is ours; false leaves it to the API. */
export interface HostRoutes {
  (req: IncomingMessage, res: ServerResponse): boolean;
  /**
   * Where a request with this Host (and X-Forwarded-Host, honoured only with trustProxy) and
   * URL goes, decided as the handler decides it: undefined when its host is not ours, the
   * function (path with query) when it is one, and 'other' for anything else the host answers.
   */
  resolve(host: string | undefined, forwardedHost: string | undefined, url: string): FunctionTarget | 'other' | undefined;
}

/** Labels the index shows, under friendlier names; every other label and annotation stays private. */
const PUBLIC_LABELS: Record<string, string> = {
  'com.openfaas.cloud.git-repo': 'gitRepo',
  'com.openfaas.cloud.git-sha': 'gitSha',
  'com.openfaas.cloud.git-branch': 'gitBranch',
};

/** Bound on remembered not-ours hosts, so random Host headers cannot grow memory. */
const NOT_OURS_MAX = 1024;

const firstValue = (value: string | string[] | undefined): string | undefined => {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  const comma = v.indexOf(',');
  return (comma === -1 ? v : v.slice(0, comma)).trim() || undefined;
};

export function hostRoutes(opts: HostRoutesOptions): HostRoutes {
  const { domain, trustProxy, claims, provider, proxy, log } = opts;
  const router = { domain, customDomains: claims.hosts, bareLabels: opts.bareLabels };
  const notOurs = new Set<string>();
  const previous = claims.onChange;
  claims.onChange = () => {
    previous();
    notOurs.clear();
  };

  const hostOf = (host: string | undefined, forwardedHost: string | string[] | undefined): string | undefined => (trustProxy && firstValue(forwardedHost)) || host;

  /** The route for a host seen, or undefined (remembered) when the host is not ours. */
  const routeOf = (host: string | undefined, pathname: string): HostRoute | undefined => {
    if (host === undefined || notOurs.has(host)) return undefined;
    const route = routeByHost(host, pathname, router);
    if (!route && notOurs.size < NOT_OURS_MAX) notOurs.add(host);
    return route;
  };

  const handle = ((req, res) => {
    const host = hostOf(req.headers.host, req.headers['x-forwarded-host']);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const route = routeOf(host, q === -1 ? url : url.slice(0, q));
    if (!route) return false;
    if (route.kind === 'function') {
      proxy.forward(req, res, route.name, route.namespace, q === -1 ? route.path : route.path + url.slice(q));
    } else if (route.kind === 'not-found') {
      plain(res, 404, `${route.message}\n`);
    } else if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      plain(res, 405, `the function list at ${host} answers GET only\n`);
    } else {
      const proto = (trustProxy && firstValue(req.headers['x-forwarded-proto'])) === 'https' ? 'https' : 'http';
      provider.list(route.namespace).then(
        (functions) => {
          if (functions.length === 0) return plain(res, 404, `no functions in namespace "${route.namespace}" (${host}): unknown owner, or nothing deployed yet\n`);
          const list = functions.map((fn) => {
            const item: Record<string, unknown> = { name: fn.name, url: `${proto}://${host}/${fn.name}`, replicas: fn.replicas, availableReplicas: fn.availableReplicas };
            for (const [label, field] of Object.entries(PUBLIC_LABELS)) if (fn.labels?.[label]) item[field] = fn.labels[label];
            return item;
          });
          const body = JSON.stringify(list);
          res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
          res.end(body);
        },
        (err: Error) => {
          log.error({ err, namespace: route.namespace }, 'could not list functions');
          plain(res, 500, `could not list the functions of "${route.namespace}": ${err.message}\n`);
        },
      );
    }
    return true;
  }) as HostRoutes;
  handle.resolve = (host, forwardedHost, url) => {
    const q = url.indexOf('?');
    const route = routeOf(hostOf(host, forwardedHost), q === -1 ? url : url.slice(0, q));
    if (!route) return undefined;
    if (route.kind !== 'function') return 'other';
    return { name: route.name, namespace: route.namespace, fn: `${route.name}.${route.namespace}`, path: q === -1 ? route.path : route.path + url.slice(q) };
  };
  return handle;
}

function plain(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
