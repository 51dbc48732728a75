// POST /webhooks/gitlab: verify X-Gitlab-Token, normalise the Push Hook or Merge Request
// Hook (gitlab-event.ts), then the same customer list, dedupe, sequence numbers and
// Redis-before-202 as GitHub's route (accept.ts). GitLab sends its secret token as is,
// so it is compared in constant time: the SHA-256 digests of both, timingSafeEqual.
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { acceptDecision, type AcceptDeps } from './accept.js';
import { GitLabPayloadError, normaliseGitLabEvent } from './gitlab-event.js';

export interface GitLabRouteDeps extends AcceptDeps {
  /** GITLAB_WEBHOOK_SECRET, then GITLAB_WEBHOOK_SECRET_PREVIOUS; empty: not configured (503). */
  secrets: string[];
}

/** GitLab's own limit on webhook payloads is 25 MB. */
const MAX_BODY_BYTES = 25 * 1024 * 1024;

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** True when `given` equals one of the secrets; every secret is compared, in constant time. */
export function tokenMatches(given: string, secrets: Buffer[]): boolean {
  const candidate = digest(given);
  let match = false;
  for (const secret of secrets) match = timingSafeEqual(candidate, secret) || match;
  return match;
}

export function gitlabWebhookRoute(deps: GitLabRouteDeps): Hono {
  const secrets = deps.secrets.map(digest);
  const app = new Hono();
  app.post(
    '/',
    bodyLimit({ maxSize: MAX_BODY_BYTES, onError: (c) => c.text('payload larger than 25 MB\n', 413) }),
    async (c) => {
      if (secrets.length === 0) {
        return c.text('GitLab webhooks are not configured here: set GITLAB_WEBHOOK_SECRET (or _FILE) on the webhooks service\n', 503);
      }
      const event = c.req.header('x-gitlab-event') ?? '';
      const deliveryId = c.req.header('x-gitlab-event-uuid') ?? c.req.header('x-gitlab-webhook-uuid') ?? randomUUID();
      const log = deps.log.child({ deliveryId, event, scm: 'gitlab' });
      const token = c.req.header('x-gitlab-token');
      if (token === undefined) {
        log.warn('webhook without X-Gitlab-Token refused');
        return c.text('missing X-Gitlab-Token: set the webhook\'s secret token on GitLab (the same as GITLAB_WEBHOOK_SECRET)\n', 401);
      }
      if (!tokenMatches(token, secrets)) {
        log.warn('webhook token mismatch');
        return c.text('X-Gitlab-Token does not match: verify that the secret token on GitLab matches GITLAB_WEBHOOK_SECRET\n', 401);
      }
      if (!event) return c.text('missing X-Gitlab-Event header\n', 400);
      let payload: unknown;
      try {
        payload = JSON.parse(await c.req.text());
      } catch (err) {
        return c.text(`malformed JSON body: ${(err as Error).message}\n`, 400);
      }
      let normalised;
      try {
        normalised = normaliseGitLabEvent(event, payload);
      } catch (err) {
        if (err instanceof GitLabPayloadError) return c.text(`${err.message}\n`, 400);
        throw err;
      }
      const decision =
        normalised.action === 'ignore' ? ({ action: 'skip', reason: normalised.reason } as const) : normalised;
      return acceptDecision(c, deps, decision, deliveryId, log);
    },
  );
  return app;
}
