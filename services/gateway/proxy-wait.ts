// A call to a function that exists but has no ready replica. When replicas are wanted
// (starting, restarting after a crash, rolling) the call waits for one through the
// provider's readiness wait, bounded by the function timeout, instead of failing at once.
// At zero wanted replicas it is refused with 503 (scaledToZero; the zero-scaling waker
// replaces that one branch). Neither path is the hot path: both run only at 0 ready.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { observe, plain, type CallContext } from './proxy-call.js';
import { ProviderError, type Endpoint, type FunctionChange, type ProviderFeed } from './providers/provider.js';

/**
 * Desired replicas per function ("name.namespace"), kept from the provider's change feed
 * so that telling "starting" from "scaled to zero" costs a map read, no backend call.
 */
export class DesiredReplicas {
  private readonly desired = new Map<string, number>();
  readonly stop: () => void;

  constructor(feed: ProviderFeed) {
    this.stop = feed.onChange((c: FunctionChange) => {
      if (c.kind === 'added' || c.kind === 'changed') this.desired.set(`${c.function.name}.${c.function.namespace}`, c.function.replicas);
      else if (c.kind === 'removed') this.desired.delete(`${c.name}.${c.namespace}`);
    });
  }

  of(fn: string): number {
    return this.desired.get(fn) ?? 0;
  }
}

/** Desired 0: refused now. Kept apart so the zero-scaling waker can take its place. */
export function scaledToZero(ctx: CallContext, res: ServerResponse, fn: string, started: number): void {
  observe(ctx.observers, fn, 503, started);
  plain(res, 503, `function "${fn}" has no ready replica: it is scaled to zero; scale it up and call again\n`);
}

/** Waits for a ready replica, then `send`s to it; answers the caller itself when none comes. */
export function awaitReplica(
  ctx: CallContext & { feed: ProviderFeed; timeoutMs: number },
  req: IncomingMessage,
  res: ServerResponse,
  name: string,
  namespace: string,
  fn: string,
  started: number,
  send: (endpoints: readonly Endpoint[]) => void,
): void {
  const gone = new AbortController();
  const onClose = () => gone.abort(new Error('the client went away'));
  res.once('close', onClose);
  // Whatever the caller sends waits in the socket (backpressure) until a replica is there.
  req.pause();
  ctx.feed.waitUntilReady(name, namespace, { timeoutMs: ctx.timeoutMs, signal: gone.signal }).then(
    (endpoints) => {
      res.off('close', onClose);
      if (res.destroyed) return observe(ctx.observers, fn, 499, started);
      send(endpoints);
    },
    (err: unknown) => {
      res.off('close', onClose);
      if (gone.signal.aborted || res.destroyed) return observe(ctx.observers, fn, 499, started);
      const code = err instanceof ProviderError ? err.code : 'unavailable';
      if (code === 'not_found') {
        observe(ctx.observers, fn, 404, started);
        return plain(res, 404, `function "${name}" not found in namespace "${namespace}"\n`);
      }
      if (code !== 'timeout') ctx.log.warn({ fn, err }, 'waiting for a replica failed');
      observe(ctx.observers, fn, 503, started);
      const why = code === 'timeout' ? `within ${ctx.timeoutMs / 1000} s` : `(${(err as Error).message})`;
      plain(res, 503, `function "${fn}" has no ready replica ${why}: it is starting or restarting; try again shortly\n`);
    },
  );
}
