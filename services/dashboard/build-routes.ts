// Repositories and builds from the build history in Redis (shared/build-history.ts), and a
// build's log as server-sent events while it runs (shared/build-logs.ts). An owner sees the
// repositories and builds of their own namespace only; anything else is 404, as if absent.
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { streamSSE } from 'hono/streaming';
import type { Redis } from 'ioredis';
import { BuildHistory, type BuildRecord } from '../../shared/build-history.js';
import { buildLogExists, isBuildLogToken, readBuildLog, waitBuildLog } from '../../shared/build-logs.js';
import { mayAccess, type Session, type SessionEnv } from './session.js';

const FOLLOW_BLOCK_MS = 2000;

export interface BuildRouteOptions {
  /** Redis, connected on first use. */
  redis: () => Redis;
  queuePrefix: string;
}

/** A record as the page sees it: the log's address stays on the server. */
function view(build: BuildRecord) {
  const { logUrl: _logUrl, ...rest } = build;
  return rest;
}

export function buildRoutes(opts: BuildRouteOptions): Hono<SessionEnv> {
  const app = new Hono<SessionEnv>();
  const history = () => new BuildHistory(opts.redis(), opts.queuePrefix);
  const visible = (session: Session, build: BuildRecord | undefined) => (build && mayAccess(session, build.repository.namespace) ? build : undefined);

  const buildOf = async (session: Session, id: string) => {
    const build = visible(session, await history().get(id));
    if (!build) throw new HTTPException(404, { message: `no build ${id} (it may have expired, or it is not yours)` });
    return build;
  };

  app.get('/ui/api/repositories', async (c) => {
    const session = c.get('session');
    const repositories = (await history().repositories()).filter((r) => mayAccess(session, r.namespace));
    // Only what the page shows: no installation ids or clone URLs.
    return c.json({
      repositories: repositories
        .map((r) => ({ key: `${r.scm}:${r.repoId}`, scm: r.scm, fullName: r.fullName, namespace: r.namespace, defaultBranch: r.defaultBranch, lastSeenAt: r.lastSeenAt }))
        .sort((a, b) => b.lastSeenAt.localeCompare(a.lastSeenAt)),
    });
  });

  app.get('/ui/api/builds', async (c) => {
    const session = c.get('session');
    const limit = Number(c.req.query('limit') ?? 30);
    if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw new HTTPException(400, { message: 'limit must be a whole number from 1 to 200' });
    const key = c.req.query('repository');
    const h = history();
    let builds: BuildRecord[];
    if (key) {
      const match = /^(github|gitlab):(\d+)$/.exec(key);
      if (!match) throw new HTTPException(400, { message: 'repository must be "<scm>:<repository id>", e.g. github:1234' });
      const repo = await h.repository({ scm: match[1] as 'github' | 'gitlab', repoId: Number(match[2]) });
      if (!repo || !mayAccess(session, repo.namespace)) throw new HTTPException(404, { message: `no repository ${key} (or it is not yours)` });
      builds = await h.list({ repository: repo, limit });
    } else if (session.role === 'admin') {
      builds = await h.list({ limit });
    } else {
      const repos = (await h.repositories()).filter((r) => mayAccess(session, r.namespace));
      builds = (await Promise.all(repos.map((r) => h.list({ repository: r, limit })))).flat();
      builds.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
      builds = builds.slice(0, limit);
    }
    return c.json({ builds: builds.filter((b) => visible(session, b)).map(view) });
  });

  app.get('/ui/api/builds/:id', async (c) => c.json(view(await buildOf(c.get('session'), c.req.param('id')))));

  // The log so far, then new lines until the build's log ends: "line" events, then "end".
  app.get('/ui/api/builds/:id/log', async (c) => {
    const build = await buildOf(c.get('session'), c.req.param('id'));
    const token = build.logUrl.split('/').pop() ?? '';
    const redis = opts.redis();
    if (!isBuildLogToken(token) || !(await buildLogExists(redis, opts.queuePrefix, token))) throw new HTTPException(404, { message: 'the log of this build has expired' });
    return streamSSE(c, async (sse) => {
      let aborted = false;
      sse.onAbort(() => {
        aborted = true;
      });
      const send = (lines: string[]) => (lines.length ? sse.writeSSE({ event: 'lines', data: JSON.stringify(lines) }) : Promise.resolve());
      let chunk = await readBuildLog(redis, opts.queuePrefix, token);
      await send(chunk.lines);
      if (!chunk.ended) {
        const blocking = redis.duplicate();
        // duplicate() copies no listeners: a connection error ends this follow, not the process.
        blocking.on('error', () => {});
        try {
          let lastId = chunk.lastId;
          while (!aborted) {
            chunk = await waitBuildLog(blocking, opts.queuePrefix, token, lastId, FOLLOW_BLOCK_MS);
            lastId = chunk.lastId;
            await send(chunk.lines);
            if (chunk.ended) break;
            if (chunk.lines.length === 0 && !(await buildLogExists(redis, opts.queuePrefix, token))) break;
          }
        } finally {
          blocking.disconnect();
        }
      }
      await sse.writeSSE({ event: 'end', data: '' });
    });
  });

  return app;
}
