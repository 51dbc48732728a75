// The two OAuth web flows the dashboard speaks, GitHub's and GitLab's: where to send the
// browser, how to trade the code for a token, and whose token it is. The token is used
// for that one GET /user and dropped: it never reaches a cookie, the page or a log.
import type { Scm } from '../../shared/names.js';
import type { OAuthClient } from './config.js';

export class OAuthError extends Error {
  override name = 'OAuthError';
}

export interface OAuthHost {
  scm: Scm;
  label: string;
  authorizeUrl(client: OAuthClient, redirectUri: string, state: string): string;
  /** The signed-in user's login, from the code the host sent back. */
  login(client: OAuthClient, code: string, redirectUri: string): Promise<string>;
}

async function json(res: Response, what: string): Promise<Record<string, unknown>> {
  const text = await res.text();
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new OAuthError(`${what} answered ${res.status} without JSON`);
  }
}

function describe(body: Record<string, unknown>): string {
  return [body.error, body.error_description ?? body.message].filter(Boolean).join(': ') || 'no reason given';
}

async function userLogin(url: string, token: string, field: 'login' | 'username', what: string): Promise<string> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'application/json', 'user-agent': 'gitfaas-dashboard' } });
  const body = await json(res, what);
  if (!res.ok || typeof body[field] !== 'string') throw new OAuthError(`${what} refused the token (${res.status} ${describe(body)})`);
  return body[field] as string;
}

export const GITHUB: OAuthHost = {
  scm: 'github',
  label: 'GitHub',
  authorizeUrl: (client, redirectUri, state) =>
    `${client.webUrl}/login/oauth/authorize?${new URLSearchParams({ client_id: client.clientId, redirect_uri: redirectUri, state, scope: 'read:user', allow_signup: 'false' })}`,
  async login(client, code, redirectUri) {
    const res = await fetch(`${client.webUrl}/login/oauth/access_token`, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: client.clientId, client_secret: client.clientSecret, code, redirect_uri: redirectUri }),
    });
    const body = await json(res, 'GitHub token exchange');
    // GitHub answers a bad code with 200 and an "error" field.
    if (!res.ok || typeof body.access_token !== 'string') throw new OAuthError(`GitHub refused the sign-in code (${describe(body)})`);
    return userLogin(`${client.apiUrl}/user`, body.access_token, 'login', 'GitHub GET /user');
  },
};

export const GITLAB: OAuthHost = {
  scm: 'gitlab',
  label: 'GitLab',
  authorizeUrl: (client, redirectUri, state) =>
    `${client.webUrl}/oauth/authorize?${new URLSearchParams({ client_id: client.clientId, redirect_uri: redirectUri, response_type: 'code', state, scope: 'read_user' })}`,
  async login(client, code, redirectUri) {
    const res = await fetch(`${client.webUrl}/oauth/token`, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', client_id: client.clientId, client_secret: client.clientSecret, code, redirect_uri: redirectUri }),
    });
    const body = await json(res, 'GitLab token exchange');
    if (!res.ok || typeof body.access_token !== 'string') throw new OAuthError(`GitLab refused the sign-in code (${describe(body)})`);
    return userLogin(`${client.apiUrl}/user`, body.access_token, 'username', 'GitLab GET /api/v4/user');
  },
};
