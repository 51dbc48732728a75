// The OAuth web flow as GitHub and GitLab run it, for their stand-ins: the authorize page
// (here the user "approves" at once, as the login set with approveAs), the code-for-token
// exchange (codes are single-use, expire, and are bound to the client and redirect_uri),
// and the token's owner for GET /user.
import { randomBytes } from 'node:crypto';

export interface OAuthClientRegistration {
  clientId: string;
  clientSecret: string;
}

export type ExchangeResult = { token: string } | { error: string; description: string };

export class FakeOAuth {
  private readonly codes = new Map<string, { login: string; redirectUri: string; expires: number }>();
  private readonly tokens = new Map<string, string>();
  /** Who approves the next authorize request; undefined: the user denies access. */
  approving: string | undefined;

  constructor(
    private readonly client: OAuthClientRegistration,
    private readonly tokenPrefix: string,
  ) {}

  approveAs(login: string | undefined): void {
    this.approving = login;
  }

  /** Where the authorize page sends the browser: the redirect_uri with a code (or an error) and the state. */
  authorize(query: URLSearchParams): { status: number; location?: string; message?: string } {
    if (query.get('client_id') !== this.client.clientId) return { status: 404, message: 'unknown client_id' };
    const redirectUri = query.get('redirect_uri');
    if (!redirectUri) return { status: 400, message: 'redirect_uri is required' };
    const back = new URL(redirectUri);
    const state = query.get('state');
    if (state !== null) back.searchParams.set('state', state);
    if (this.approving === undefined) {
      back.searchParams.set('error', 'access_denied');
      back.searchParams.set('error_description', 'The user has denied your application access.');
      return { status: 302, location: back.toString() };
    }
    const code = randomBytes(10).toString('hex');
    this.codes.set(code, { login: this.approving, redirectUri, expires: Date.now() + 600_000 });
    back.searchParams.set('code', code);
    return { status: 302, location: back.toString() };
  }

  exchange(params: { client_id?: string; client_secret?: string; code?: string; redirect_uri?: string }): ExchangeResult {
    if (params.client_id !== this.client.clientId || params.client_secret !== this.client.clientSecret) {
      return { error: 'incorrect_client_credentials', description: 'The client_id and/or client_secret passed are incorrect.' };
    }
    const issued = params.code ? this.codes.get(params.code) : undefined;
    if (!issued || issued.expires < Date.now()) return { error: 'bad_verification_code', description: 'The code passed is incorrect or expired.' };
    if (issued.redirectUri !== params.redirect_uri) return { error: 'redirect_uri_mismatch', description: 'The redirect_uri MUST match the registered callback URL for this application.' };
    this.codes.delete(params.code!);
    const token = `${this.tokenPrefix}${randomBytes(16).toString('hex')}`;
    this.tokens.set(token, issued.login);
    return { token };
  }

  /** The login a bearer token belongs to. */
  user(authorization: string | undefined): string | undefined {
    const token = authorization?.replace(/^(bearer|token)\s+/i, '');
    return token ? this.tokens.get(token) : undefined;
  }
}
