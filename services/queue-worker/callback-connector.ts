// The callback agent's connector: resolves the callback's host itself, refuses the
// connection if ANY resolved address is refused by the callback policy
// (shared/callback-policy.ts), and otherwise connects to the address it checked, so a
// second lookup (DNS rebinding) cannot swap in another. The refusal happens before a socket
// exists.
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { buildConnector } from 'undici';
import { CallbackRefused, refusedAddress, type CallbackPolicy } from '../../shared/callback-policy.js';

export type Resolve = (hostname: string) => Promise<string[]>;

const systemResolve: Resolve = async (hostname) => (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

export interface GuardOptions {
  timeoutMs?: number;
  /** Name resolution (dns.lookup by default); tests stand in a resolver. */
  resolve?: Resolve;
  /** The connector that opens the socket (undici's by default); tests observe it. */
  connect?: buildConnector.connector;
}

export function guardedConnector(policy: CallbackPolicy, opts: GuardOptions = {}): buildConnector.connector {
  const resolve = opts.resolve ?? systemResolve;
  const connect = opts.connect ?? buildConnector({ timeout: opts.timeoutMs ?? 10_000 });
  return (options, callback) => {
    const hostname = options.hostname.replace(/^\[|\]$/g, '');
    const port = options.port ? Number(options.port) : options.protocol === 'https:' ? 443 : 80;
    const addresses = isIP(hostname) ? Promise.resolve([hostname]) : resolve(hostname);
    addresses.then(
      (list) => {
        if (list.length === 0) return callback(new Error(`${hostname} resolved to no address`), null);
        for (const address of list) {
          const problem = refusedAddress(policy, address, port);
          if (problem) return callback(new CallbackRefused(`callback refused: ${hostname} -> ${problem}`), null);
        }
        // Connect to the checked address; TLS still verifies the certificate for the name.
        const servername = options.protocol === 'https:' && !isIP(hostname) ? (options.servername ?? hostname) : options.servername;
        connect({ ...options, hostname: list[0], servername }, callback);
      },
      (err: Error) => callback(err, null),
    );
  };
}
