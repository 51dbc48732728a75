// The change feed and readiness wait every backend offers (Provider.onChange,
// Provider.waitUntilReady), written once. A backend tells it what a function looks like
// whenever its own picture changes (its writes, the backend's watch/events: another
// gateway, a replica dying); this works out added / changed / removed / ready, tells the
// listeners, and wakes the waiters. Nothing here polls.
import { ProviderError, type Endpoint, type FunctionChange, type FunctionStatus } from './provider.js';

interface Known {
  status: FunctionStatus;
  /** The status without the counters that move all the time, to tell a real change. */
  shape: string;
  ready: number;
}

interface Waiter {
  resolve(endpoints: readonly Endpoint[]): void;
  reject(err: unknown): void;
}

type Listener = (change: FunctionChange) => void;

const key = (name: string, namespace: string) => `${namespace}/${name}`;

function shapeOf(status: FunctionStatus): string {
  const { availableReplicas: _a, invocationCount: _i, usage: _u, ...rest } = status;
  return JSON.stringify(rest);
}

export class ChangeFeed {
  private readonly known = new Map<string, Known>();
  private readonly listeners = new Set<Listener>();
  private readonly waiters = new Map<string, Set<Waiter>>();

  /**
   * `endpoints` is the backend's hot-path read (Provider.endpoints); `onListenerError` hears
   * a listener that threw (the backend logs it), so one listener's mistake keeps neither the
   * others nor the backend from the change.
   */
  constructor(
    private readonly endpoints: (name: string, namespace: string) => readonly Endpoint[] | undefined,
    private readonly onListenerError: (err: unknown) => void,
  ) {}

  /**
   * The backend's picture of one function now: its status as `get` would answer it, or
   * undefined when it is gone. Emits only what differs from the last picture.
   */
  observe(name: string, namespace: string, status: FunctionStatus | undefined): void {
    const k = key(name, namespace);
    const before = this.known.get(k);
    if (!status) {
      if (!before) return;
      this.known.delete(k);
      this.emit({ kind: 'removed', name, namespace });
      this.settle(k, (w) => w.reject(new ProviderError('not_found', `function "${name}" was removed from namespace "${namespace}"`)));
      return;
    }
    const shape = shapeOf(status);
    const ready = this.endpoints(name, namespace)?.length ?? 0;
    this.known.set(k, { status, shape, ready });
    if (!before) this.emit({ kind: 'added', function: status });
    else if (before.shape !== shape) this.emit({ kind: 'changed', function: status });
    if (ready !== (before?.ready ?? 0)) this.emit({ kind: 'ready', name, namespace, ready });
    if (ready > 0) {
      const endpoints = this.endpoints(name, namespace) ?? [];
      this.settle(k, (w) => w.resolve(endpoints));
    }
  }

  /** Provider.onChange: replays `added` (and `ready` when some are) for every known function first. */
  onChange(listener: Listener): () => void {
    for (const { status, ready } of [...this.known.values()]) {
      listener({ kind: 'added', function: status });
      if (ready > 0) listener({ kind: 'ready', name: status.name, namespace: status.namespace, ready });
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Provider.waitUntilReady (see provider.ts for the contract). */
  waitUntilReady(name: string, namespace: string, options: { timeoutMs: number; signal?: AbortSignal }): Promise<readonly Endpoint[]> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const now = this.endpoints(name, namespace);
    const k = key(name, namespace);
    // Known here, not only to the backend: a function being removed is already gone.
    if (now === undefined || !this.known.has(k)) return Promise.reject(new ProviderError('not_found', `function "${name}" not found in namespace "${namespace}"`));
    if (now.length > 0) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      let set = this.waiters.get(k);
      if (!set) this.waiters.set(k, (set = new Set()));
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        set.delete(waiter);
        if (set.size === 0 && this.waiters.get(k) === set) this.waiters.delete(k);
      };
      const waiter: Waiter = {
        resolve: (endpoints) => (done(), resolve(endpoints)),
        reject: (err) => (done(), reject(err)),
      };
      const onAbort = () => waiter.reject(signal!.reason);
      const timer = setTimeout(
        () => waiter.reject(new ProviderError('timeout', `function "${name}" in namespace "${namespace}" had no ready replica within ${options.timeoutMs} ms`)),
        options.timeoutMs,
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      set.add(waiter);
    });
  }

  /** The provider is closing: nobody waits any longer. */
  close(): void {
    for (const k of [...this.waiters.keys()]) this.settle(k, (w) => w.reject(new ProviderError('unavailable', 'the provider is shutting down')));
    this.listeners.clear();
  }

  private emit(change: FunctionChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }

  private settle(k: string, how: (w: Waiter) => void): void {
    const set = this.waiters.get(k);
    if (!set) return;
    for (const w of [...set]) how(w);
  }
}
