// ?watch=true: a chunked stream of {"type","object"} lines, as the API server sends.
// Without a resourceVersion (or with "0") it starts with a synthetic ADDED per existing
// object; with one, it replays the history after it, and a revision the history no longer
// reaches is an ERROR event carrying a 410 Expired Status (the stream itself answers 200,
// as the real watch cache does). A MODIFIED object that leaves the selector is sent as
// DELETED, one that enters it as ADDED.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { apiVersionOf, type ResourceType } from './resources.js';
import type { Matcher } from './selector.js';
import { KubeError } from './status.js';
import type { Store, StoreEvent } from './store.js';

export interface WatchOptions {
  type: ResourceType;
  namespace?: string;
  matches: Matcher;
  resourceVersion: string | null;
  bookmarks: boolean;
  bookmarkIntervalMs: number;
  timeoutSeconds?: number;
}

export function serveWatch(store: Store, req: IncomingMessage, res: ServerResponse, opts: WatchOptions): void {
  const { type, namespace, matches } = opts;
  res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked', 'cache-control': 'no-cache' });
  res.flushHeaders();
  const send = (eventType: string, object: unknown) => res.write(`${JSON.stringify({ type: eventType, object })}\n`);
  const inScope = (o: any) => !namespace || o?.metadata?.namespace === namespace;

  let initial: Array<{ type: string; object: unknown }>;
  try {
    if (!opts.resourceVersion || opts.resourceVersion === '0') {
      initial = store.list(type.plural, namespace, matches).map((object) => ({ type: 'ADDED', object }));
    } else {
      initial = store.eventsSince(type.plural, opts.resourceVersion).flatMap((e) => translate(e));
    }
  } catch (err) {
    if (!(err instanceof KubeError)) throw err;
    send('ERROR', err.toStatus());
    res.end();
    return;
  }

  function translate(e: StoreEvent): Array<{ type: string; object: unknown }> {
    if (!inScope(e.object)) return [];
    const now = matches(e.object);
    if (e.type !== 'MODIFIED') return now ? [{ type: e.type, object: e.object }] : [];
    const before = e.old ? matches(e.old) : now;
    if (now && before) return [{ type: 'MODIFIED', object: e.object }];
    if (now) return [{ type: 'ADDED', object: e.object }];
    if (before) return [{ type: 'DELETED', object: e.object }];
    return [];
  }

  const onEvent = (e: StoreEvent) => {
    if (e.plural !== type.plural) return;
    for (const out of translate(e)) send(out.type, out.object);
  };
  store.on('event', onEvent);
  for (const e of initial) send(e.type, e.object);

  const timers: NodeJS.Timeout[] = [];
  if (opts.bookmarks) {
    timers.push(
      setInterval(() => {
        send('BOOKMARK', { kind: type.kind, apiVersion: apiVersionOf(type), metadata: { resourceVersion: String(store.revision) } });
      }, opts.bookmarkIntervalMs),
    );
  }
  if (opts.timeoutSeconds && opts.timeoutSeconds > 0) timers.push(setTimeout(() => res.end(), opts.timeoutSeconds * 1000));
  const stop = () => {
    store.off('event', onEvent);
    for (const t of timers) clearTimeout(t);
  };
  res.on('close', stop);
  req.on('close', stop);
}
