// POST /webhooks/github: verify, normalise, enqueue, answer. The HMAC is checked on the
// raw body before anything is parsed; no slow work happens in the request (GitHub gives
// a receiver 10 s), and 202 means the build job is stored in Redis.
import { Webhooks } from '@octokit/webhooks';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { acceptDecision, type AcceptDeps } from './accept.js';
import { decideGitHubEvent } from './github-event.js';

export interface GitHubRouteDeps extends AcceptDeps {
  secrets: string[];
}

/** GitHub caps webhook payloads at 25 MB. */
const MAX_BODY_BYTES = 25 * 1024 * 1024;

export function githubWebhookRoute(deps: GitHubRouteDeps): Hono {
  const verifiers = deps.secrets.map((secret) => new Webhooks({ secret }));
  const app = new Hono();

  app.post(
    '/',
    bodyLimit({ maxSize: MAX_BODY_BYTES, onError: (c) => c.text('payload larger than 25 MB\n', 413) }),
    async (c) => {
      if (verifiers.length === 0) {
        return c.text('GitHub webhooks are not configured here: set GITHUB_WEBHOOK_SECRET (or _FILE) on the webhooks service\n', 503);
      }
      const event = c.req.header('x-github-event');
      const deliveryId = c.req.header('x-github-delivery');
      const signature = c.req.header('x-hub-signature-256');
      const log = deps.log.child({ deliveryId, event });
      if (!signature) {
        log.warn('webhook without X-Hub-Signature-256 refused');
        return c.text('missing X-Hub-Signature-256: set a secret on the GitHub webhook (the same as GITHUB_WEBHOOK_SECRET)\n', 401);
      }
      const raw = await c.req.text();
      let verified = false;
      for (const verifier of verifiers) {
        if (await verifier.verify(raw, signature).catch(() => false)) {
          verified = true;
          break;
        }
      }
      if (!verified) {
        log.warn('webhook signature mismatch');
        return c.text('signature does not match: verify that the webhook secret on GitHub matches GITHUB_WEBHOOK_SECRET\n', 401);
      }
      if (!event || !deliveryId) {
        return c.text('missing X-GitHub-Event or X-GitHub-Delivery header\n', 400);
      }
      const type = c.req.header('content-type') ?? '';
      if (!type.startsWith('application/json')) {
        return c.text('expected Content-Type application/json: set the webhook content type to application/json\n', 415);
      }
      let payload: unknown;
      try {
        payload = JSON.parse(raw);
      } catch (err) {
        return c.text(`malformed JSON body: ${(err as Error).message}\n`, 400);
      }
      if (event === 'ping') return c.json({ message: 'pong' }, 200);

      const decision = decideGitHubEvent(event, payload);
      if (decision.action === 'invalid') return c.text(`${decision.reason}\n`, 400);
      return acceptDecision(c, deps, decision, deliveryId, log);
    },
  );
  return app;
}
