// /system/async/*: the queue's state and its dead letters (behind the gateway's /system
// basic auth). Replay puts a dead letter back on the work stream with its original call
// id and deletes it once stored.
import { Hono, type Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { NatsConnection } from 'nats';
import { deleteDeadLetter, listDeadLetters, replayAllDeadLetters, replayDeadLetter } from '../../shared/async-dead-letters.js';
import type { NatsLink } from '../../shared/async-nats.js';
import type { AsyncStreamSettings } from '../../shared/async-config.js';
import { requireLabel } from './requests.js';

export interface AsyncSystemRouteOptions {
  link: NatsLink;
  streams: AsyncStreamSettings;
}

export function asyncSystemRoutes(opts: AsyncSystemRouteOptions): Hono {
  const { link, streams: s } = opts;
  const app = new Hono();

  const connection = (): NatsConnection => {
    const nc = link.connection;
    if (!nc) throw new HTTPException(503, { message: 'the async queue is unavailable (NATS is not connected); retry later' });
    return nc;
  };
  const namespaceOf = (c: Context) => {
    const ns = c.req.query('namespace');
    return ns ? requireLabel('namespace', ns) : undefined;
  };
  const idOf = (c: Context) => {
    const id = Number(c.req.param('id'));
    if (!Number.isSafeInteger(id) || id < 1) throw new HTTPException(400, { message: `dead-letter id must be a positive whole number, got "${c.req.param('id')}"` });
    return id;
  };
  const intQuery = (c: Context, key: string, fallback: number, max: number) => {
    const raw = c.req.query(key);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0 || n > max) throw new HTTPException(400, { message: `${key} must be a whole number from 0 to ${max}, got "${raw}"` });
    return n;
  };

  app.get('/system/async/queue', async (c) => {
    const jsm = await connection().jetstreamManager();
    const [work, dead] = await Promise.all([jsm.streams.info(s.stream), jsm.streams.info(s.deadStream)]);
    return c.json({
      stream: s.stream,
      messages: work.state.messages,
      bytes: work.state.bytes,
      deadLetterStream: s.deadStream,
      deadLetters: dead.state.messages,
    });
  });

  app.get('/system/async/dead-letters', async (c) => {
    const jsm = await connection().jetstreamManager();
    const list = await listDeadLetters(jsm, s, {
      namespace: namespaceOf(c),
      limit: intQuery(c, 'limit', 100, 1000) || 100,
      after: intQuery(c, 'after', 0, Number.MAX_SAFE_INTEGER),
    });
    return c.json(list);
  });

  app.post('/system/async/dead-letters/replay', async (c) => {
    const nc = connection();
    const replayed = await replayAllDeadLetters(nc.jetstream(), await nc.jetstreamManager(), s, namespaceOf(c));
    return c.json({ replayed: replayed.length, callIds: replayed });
  });

  app.post('/system/async/dead-letters/:id/replay', async (c) => {
    const id = idOf(c);
    const nc = connection();
    const done = await replayDeadLetter(nc.jetstream(), await nc.jetstreamManager(), s, id, namespaceOf(c));
    if (!done) throw new HTTPException(404, { message: `no dead letter ${id}` });
    return c.json({ id, callId: done.callId }, 202);
  });

  app.delete('/system/async/dead-letters/:id', async (c) => {
    const id = idOf(c);
    const removed = await deleteDeadLetter(await connection().jetstreamManager(), s, id);
    if (!removed) throw new HTTPException(404, { message: `no dead letter ${id}` });
    return c.body(null, 204);
  });

  return app;
}
