// Coalesces reconcile requests per key, so a burst of store events becomes one pass, and
// never runs two passes for one key at once (a controller's work queue).
export class ReconcileQueue {
  private readonly dirty = new Set<string>();
  private running = false;
  private closed = false;

  constructor(
    private readonly reconcile: (key: string) => void | Promise<void>,
    private readonly onError: (err: unknown) => void,
  ) {}

  add(key: string): void {
    if (this.closed) return;
    this.dirty.add(key);
    if (!this.running) {
      this.running = true;
      setImmediate(() => void this.drain());
    }
  }

  close(): void {
    this.closed = true;
    this.dirty.clear();
  }

  private async drain(): Promise<void> {
    while (this.dirty.size > 0 && !this.closed) {
      const [key] = this.dirty;
      this.dirty.delete(key);
      try {
        await this.reconcile(key);
      } catch (err) {
        this.onError(err);
      }
    }
    this.running = false;
  }
}
