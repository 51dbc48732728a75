// The async queue as the dashboard shows it: calls waiting per function (and how long the
// oldest has waited), dead letters with their last error, and replay. Owners see and
// replay only their own namespace's; NATS down is a 503 saying so.
import { Hono, type Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { JetStreamManager, NatsConnection } from 'nats';
import type { DirectStreamAPI } from 'nats/lib/jetstream/types.js';
import type { AsyncStreamSettings } from '../../shared/async-config.js';
import { listDeadLetters, replayDeadLetter } from '../../shared/async-dead-letters.js';
import type { NatsLink } from '../../shared/async-nats.js';
import { allowedNamespace } from './function-routes.js';
import type { SessionEnv } from './session.js';

export interface AsyncRouteOptions {
  link: NatsLink;
  streams: AsyncStreamSettings;
}

export interface QueuedFunction {
  namespace: string;
  name: string;
  /** Calls waiting (or being worked on) for this function. */
  pending: number;
  /** When the oldest of them was queued. */
  oldestAt: string | null;
}

export function asyncRoutes(opts: AsyncRouteOptions): Hono<SessionEnv> {
  const { link, streams: s } = opts;
  const app = new Hono<SessionEnv>();
  const connection = (): NatsConnection => {
    const nc = link.connection;
    if (!nc) throw new HTTPException(503, { message: 'the async queue is unavailable (NATS is not connected); retry later' });
    return nc;
  };
  /** The namespace to show: ?namespace= (checked), an owner's own, or every one for the admin. */
  const scope = (c: Context<SessionEnv>): string | undefined => {
    const asked = c.req.query('namespace');
    if (asked) return allowedNamespace(c, asked);
    const session = c.get('session');
    return session.role === 'admin' ? undefined : session.namespace;
  };

  app.get('/ui/api/async/queue', async (c) => {
    const namespace = scope(c);
    const jsm = await connection().jetstreamManager();
    const prefix = `${s.subject}.invoke.`;
    const info = await jsm.streams.info(s.stream, { subjects_filter: `${prefix}${namespace ?? '*'}.*` });
    const direct = (jsm as JetStreamManager & { direct: DirectStreamAPI }).direct;
    const functions: QueuedFunction[] = await Promise.all(
      Object.entries(info.state.subjects ?? {}).map(async ([subject, pending]) => {
        const [ns, name] = subject.slice(prefix.length).split('.');
        // The first message on the subject is the oldest waiting call.
        const first = await direct.getMessage(s.stream, { seq: 1, next_by_subj: subject }).catch(() => undefined);
        return { namespace: ns, name, pending, oldestAt: first ? first.time.toISOString() : null };
      }),
    );
    functions.sort((a, b) => b.pending - a.pending || a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
    return c.json({ functions });
  });

  app.get('/ui/api/async/dead-letters', async (c) => {
    const jsm = await connection().jetstreamManager();
    const letters = await listDeadLetters(jsm, s, { namespace: scope(c), limit: 200 });
    // The newest first; the call's body stays in the stream.
    return c.json({ deadLetters: letters.reverse() });
  });

  app.post('/ui/api/async/dead-letters/:id/replay', async (c) => {
    const id = Number(c.req.param('id'));
    if (!Number.isSafeInteger(id) || id < 1) throw new HTTPException(400, { message: `dead-letter id must be a positive whole number, got "${c.req.param('id')}"` });
    const nc = connection();
    const session = c.get('session');
    // An owner can only replay a dead letter of their namespace: another's is "not found".
    const done = await replayDeadLetter(nc.jetstream(), await nc.jetstreamManager(), s, id, session.role === 'admin' ? undefined : session.namespace);
    if (!done) throw new HTTPException(404, { message: `no dead letter ${id}` });
    return c.json({ id, callId: done.callId }, 202);
  });

  return app;
}
