// Where an async call's X-Callback-Url may point. Any caller of /async-function can name a
// callback, and the queue-worker POSTs from inside the platform, so by default it refuses:
// - the platform's own endpoints (Redis, NATS and its monitor, the registry, the webhooks
//   port, the Docker engine's TCP ports; GITFAAS_CALLBACK_DENY), on any loopback address;
// - the gateway's /system API (the rest of the gateway, e.g. /function/, stays allowed);
// - link-local and metadata addresses (169.254.0.0/16, fe80::/10) and the unspecified
//   addresses (0.0.0.0, ::), which reach the host itself.
// Loopback callbacks to other ports stay allowed: the single-host default uses them.
// GITFAAS_CALLBACK_ALLOW narrows callbacks to a list of hosts. The gateway checks what it
// can at enqueue time (400); the worker checks every resolved address at connect time
// (services/queue-worker/callback-connector.ts), so DNS cannot bypass it.
import { isIP } from 'node:net';
import { z } from 'zod';

/** The single-host default's service ports (scripts/setup.sh, docs/configuration.md). */
export const DEFAULT_CALLBACK_DENY = '127.0.0.1:6379,127.0.0.1:4222,127.0.0.1:8222,127.0.0.1:5000,127.0.0.1:8081,127.0.0.1:2375,127.0.0.1:2376';

interface Endpoint {
  host: string;
  port: number;
}

const endpointList = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      const out: Endpoint[] = [];
      for (const item of value.split(',').map((s) => s.trim()).filter(Boolean)) {
        const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):(\d{1,5})$/.exec(item);
        const host = m?.[1].replace(/^\[|\]$/g, '').toLowerCase();
        if (!m || !host || (host !== 'localhost' && !isIP(host)) || Number(m[2]) > 65535) {
          ctx.addIssue({ code: 'custom', message: `"${item}" is not an address:port such as 127.0.0.1:6379 (an IP address or localhost, and a port)` });
          return z.NEVER;
        }
        out.push({ host, port: Number(m[2]) });
      }
      return out;
    });

const hostList = z
  .string()
  .default('')
  .transform((value, ctx) => {
    const hosts = value.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
    for (const h of hosts) {
      if (!/^(\*\.)?[a-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-f:.]+\](:\d{1,5})?$/.test(h)) {
        ctx.addIssue({ code: 'custom', message: `"${h}" is not a host, host:port or *.domain (e.g. hooks.example.com,127.0.0.1:9000)` });
        return z.NEVER;
      }
    }
    return hosts;
  });

/** Spread into the gateway's and the queue-worker's schemas: both must apply the same policy. */
export const callbackPolicyEnv = {
  GITFAAS_CALLBACK_DENY: endpointList(DEFAULT_CALLBACK_DENY),
  GITFAAS_CALLBACK_ALLOW: hostList,
};

export interface CallbackPolicy {
  /** Platform endpoints callbacks may not reach. */
  deny: Endpoint[];
  /** When not empty, the only hosts (host, host:port or *.domain) callbacks may name. */
  allow: string[];
  /** The gateway's origin, whose /system API callbacks may not reach. */
  gateway?: Endpoint;
}

export function callbackPolicy(
  env: { GITFAAS_CALLBACK_DENY: Endpoint[]; GITFAAS_CALLBACK_ALLOW: string[] },
  gateway?: Endpoint,
  natsServers: string[] = [],
): CallbackPolicy {
  const deny = [...env.GITFAAS_CALLBACK_DENY];
  for (const server of natsServers) {
    const e = endpointOf(server.includes('://') ? server : `nats://${server}`, 4222);
    if (e) deny.push(e);
  }
  return { deny, allow: env.GITFAAS_CALLBACK_ALLOW, gateway };
}

export function endpointOf(url: string, defaultPort: number): Endpoint | undefined {
  try {
    const u = new URL(url);
    return { host: u.hostname.replace(/^\[|\]$/g, '').toLowerCase(), port: u.port ? Number(u.port) : defaultPort };
  } catch {
    return undefined;
  }
}

export class CallbackRefused extends Error {
  readonly code = 'CALLBACK_REFUSED';
}

const v4 = (ip: string) => ip.split('.').map(Number);

/** The IPv4 address inside an IPv4-mapped IPv6 address (::ffff:a.b.c.d), else the address. */
function unmapped(ip: string): string {
  const lower = ip.toLowerCase();
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (m) return m[1];
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex) {
    const [hi, lo] = [parseInt(hex[1], 16), parseInt(hex[2], 16)];
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return lower;
}

export function isLoopback(ip: string): boolean {
  const a = unmapped(ip);
  if (isIP(a) === 4) return v4(a)[0] === 127;
  return a === '::1' || a === '0:0:0:0:0:0:0:1';
}

/** Link-local (cloud metadata lives at 169.254.169.254) and unspecified addresses. */
function hostReachingProblem(ip: string): string | undefined {
  const a = unmapped(ip);
  if (isIP(a) === 4) {
    const [x, y] = v4(a);
    if (x === 169 && y === 254) return `${ip} is a link-local (metadata) address`;
    if (a === '0.0.0.0' || x === 0) return `${ip} is an unspecified address`;
    return undefined;
  }
  if (/^fe[89ab][0-9a-f]?:/.test(a)) return `${ip} is a link-local address`;
  if (/^(0*:){2,7}0*$|^::$/.test(a)) return `${ip} is an unspecified address`;
  return undefined;
}

function sameHost(endpointHost: string, ip: string): boolean {
  if (endpointHost === 'localhost' || isLoopback(endpointHost)) return isLoopback(ip);
  return unmapped(endpointHost) === unmapped(ip);
}

/** Why a callback may not connect to ip:port, or undefined. Checked on every resolved address. */
export function refusedAddress(policy: CallbackPolicy, ip: string, port: number): string | undefined {
  const problem = hostReachingProblem(ip);
  if (problem) return problem;
  const endpoint = policy.deny.find((e) => e.port === port && sameHost(e.host, ip));
  if (endpoint) return `${ip}:${port} is a platform endpoint (GITFAAS_CALLBACK_DENY)`;
  return undefined;
}

const defaultPort = (u: URL) => (u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80);

/**
 * Why a callback URL is refused before any lookup, or undefined: scheme, allowlist, the
 * gateway's /system, and an address written into the URL. A host name is checked again on
 * what it resolves to when the worker connects.
 */
export function refusedCallbackUrl(policy: CallbackPolicy, url: string): string | undefined {
  const malformed = malformedCallbackUrl(url);
  if (malformed) return malformed;
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = defaultPort(u);
  if (policy.allow.length > 0 && !policy.allow.some((entry) => allowMatches(entry, host, port))) {
    return `${host}:${port} is not in GITFAAS_CALLBACK_ALLOW`;
  }
  const ip = host === 'localhost' ? '127.0.0.1' : isIP(host) ? host : undefined;
  if (ip) {
    const problem = refusedAddress(policy, ip, port);
    if (problem) return problem;
  }
  const gw = policy.gateway;
  if (gw && gw.port === port && (ip ? sameHost(gw.host, ip) : host === gw.host) && isSystemPath(u.pathname)) {
    return "the gateway's /system API is not a callback target";
  }
  return undefined;
}

/** Why `url` is not an absolute http(s) URL with a host, or undefined. */
export function malformedCallbackUrl(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'it is not an absolute URL';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'only http:// and https:// callbacks are allowed';
  if (!u.hostname) return 'it names no host';
  return undefined;
}

/** /system and below, however the path is spelled (percent-encoding, case, repeated slashes). */
function isSystemPath(pathname: string): boolean {
  let p = pathname;
  try {
    p = decodeURIComponent(pathname);
  } catch {
    // A malformed escape: judge the raw path.
  }
  return /^\/+system(\/|$)/i.test(p.replace(/\\/g, '/'));
}

function allowMatches(entry: string, host: string, port: number): boolean {
  const m = /^(.*?)(?::(\d+))?$/.exec(entry.replace(/^\[(.*)\]/, '$1'))!;
  const [, pattern, entryPort] = m;
  if (entryPort !== undefined && Number(entryPort) !== port) return false;
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1));
  return host === pattern;
}
