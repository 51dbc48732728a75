// GET /logs/:token — a build log as text/plain. With ?follow=1 the response stays open and
// streams new lines until the build ends (or the client goes away). Mounted by the
// webhooks receiver: app.route('/', buildLogRoute(redis, queuePrefix)).
import { Hono } from 'hono';
import { stream } from 'hono/streaming';
import type { Redis } from 'ioredis';
import { buildLogExists, isBuildLogToken, readBuildLog, waitBuildLog } from '../../shared/build-logs.js';

const FOLLOW_BLOCK_MS = 2000;

export function buildLogRoute(redis: Redis, prefix: string): Hono {
  const app = new Hono();
  app.get('/logs/:token', async (c) => {
    const token = c.req.param('token');
    if (!isBuildLogToken(token) || !(await buildLogExists(redis, prefix, token))) {
      return c.text('no build log with this token (it may have expired)\n', 404);
    }
    const follow = ['1', 'true'].includes(c.req.query('follow') ?? '');
    c.header('Content-Type', 'text/plain; charset=utf-8');
    c.header('Cache-Control', 'no-store');
    c.header('X-Content-Type-Options', 'nosniff');
    if (!follow) {
      const chunk = await readBuildLog(redis, prefix, token);
      return c.body(chunk.lines.map((l) => `${l}\n`).join(''));
    }
    return stream(c, async (out) => {
      let aborted = false;
      out.onAbort(() => {
        aborted = true;
      });
      let chunk = await readBuildLog(redis, prefix, token);
      await out.write(chunk.lines.map((l) => `${l}\n`).join(''));
      if (chunk.ended) return;
      const blocking = redis.duplicate();
      // duplicate() copies no listeners; a connection error ends this follow, not the process
      // (the pending XREAD rejects, and the finally below closes the connection).
      blocking.on('error', () => {});
      try {
        let lastId = chunk.lastId;
        while (!aborted) {
          chunk = await waitBuildLog(blocking, prefix, token, lastId, FOLLOW_BLOCK_MS);
          lastId = chunk.lastId;
          if (chunk.lines.length > 0) await out.write(chunk.lines.map((l) => `${l}\n`).join(''));
          if (chunk.ended) break;
          // The log expired (or was never finished and is gone): nothing more will come.
          if (chunk.lines.length === 0 && !(await buildLogExists(redis, prefix, token))) break;
        }
      } finally {
        blocking.disconnect();
      }
    });
  });
  return app;
}
