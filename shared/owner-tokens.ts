// Owner API tokens: one per owner namespace, so `faas-cli login -u <namespace> -p <token>`
// manages that namespace's secrets (and reads its functions) and nothing else. Kept in
// Redis under the queue prefix, so every gateway of one install accepts the same token.
// Only a SHA-256 of the token is stored: the token itself is shown once, when it is made,
// and cannot be read back (a 256-bit random token needs no slow hash). Making a new token
// replaces the old one; revoking deletes it.
import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { safeEqual } from './safe-equal.js';
import { dnsLabelProblem } from './names.js';

/** Tokens start with this, so a leaked one is recognisable (secret scanners, logs). */
export const TOKEN_PREFIX = 'gft_';

export interface OwnerTokenInfo {
  namespace: string;
  /** ISO time the token was made. */
  createdAt: string;
  /** "admin", or the owner's login when made from the dashboard. */
  createdBy: string;
}

interface Stored extends OwnerTokenInfo {
  sha256: string;
}

const hash = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

/** Compared against when a namespace has no token, so "no token" and "wrong token" take the same time. */
const NO_TOKEN = hash('no token');

export class OwnerTokens {
  constructor(
    private readonly redis: () => Redis,
    private readonly prefix: string,
  ) {}

  private key(namespace: string): string {
    const problem = dnsLabelProblem(namespace);
    if (problem) throw new Error(`namespace "${namespace}" ${problem}`);
    return `${this.prefix}:owner-token:${namespace}`;
  }

  /** Makes a new token for the namespace (replacing any old one) and returns it: the only time it is seen. */
  async create(namespace: string, createdBy: string, now = new Date()): Promise<{ token: string; info: OwnerTokenInfo }> {
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const info: OwnerTokenInfo = { namespace, createdAt: now.toISOString(), createdBy };
    const stored: Stored = { ...info, sha256: hash(token) };
    await this.redis().set(this.key(namespace), JSON.stringify(stored));
    return { token, info };
  }

  /** Whether the namespace has a token, and when it was made (never the token). */
  async info(namespace: string): Promise<OwnerTokenInfo | undefined> {
    const stored = await this.read(namespace);
    if (!stored) return undefined;
    return { namespace: stored.namespace, createdAt: stored.createdAt, createdBy: stored.createdBy };
  }

  /** Deletes the namespace's token; false when it had none. */
  async revoke(namespace: string): Promise<boolean> {
    return (await this.redis().del(this.key(namespace))) > 0;
  }

  /** True when token is the namespace's current token, compared in constant time. */
  async verify(namespace: string, token: string): Promise<boolean> {
    if (dnsLabelProblem(namespace)) return false;
    const stored = await this.read(namespace);
    const same = safeEqual(hash(token), stored?.sha256 ?? NO_TOKEN);
    return stored !== undefined && same;
  }

  private async read(namespace: string): Promise<Stored | undefined> {
    const text = await this.redis().get(this.key(namespace));
    return text ? (JSON.parse(text) as Stored) : undefined;
  }
}
