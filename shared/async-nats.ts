// One NATS connection that never gives up: it connects in the background (a service
// starts even while NATS is down; first attempts are retried here so close() can cancel
// them), reconnects forever once connected, and after every (re)connect runs
// `prepare` (create/update streams and consumers: a NATS restarted with an empty store
// gets them back). `usable` is true only while connected and prepared, so callers can
// answer "unavailable" at once instead of queueing a publish into a dead socket.
import { connect, Events, type NatsConnection } from 'nats';
import type { Logger } from './logger.js';

export interface NatsLinkOptions {
  servers: string[];
  name: string;
  log: Logger;
  prepare: (nc: NatsConnection) => Promise<void>;
  /** Delay between reconnect attempts and between failed `prepare` runs. */
  retryMs?: number;
}

export class NatsLink {
  private nc: NatsConnection | undefined;
  private prepared = false;
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private readyWaiters: ((nc: NatsConnection) => void)[] = [];
  private readonly retryMs: number;

  constructor(private readonly opts: NatsLinkOptions) {
    this.retryMs = opts.retryMs ?? 500;
  }

  /** Starts connecting; resolves at once. */
  start(): this {
    void this.connectLoop();
    return this;
  }

  get usable(): boolean {
    return !this.closed && this.prepared && this.nc !== undefined && !this.nc.isClosed() && !this.nc.isDraining() && this.connected;
  }

  private connected = false;
  private failures = 0;

  /** The connection while usable, else undefined. */
  get connection(): NatsConnection | undefined {
    return this.usable ? this.nc : undefined;
  }

  /** Resolves with the connection once it is connected and prepared. */
  ready(): Promise<NatsConnection> {
    if (this.usable && this.nc) return Promise.resolve(this.nc);
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  private async connectLoop(): Promise<void> {
    const { servers, name, log } = this.opts;
    try {
      this.nc = await connect({
        servers,
        name,
        reconnect: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: this.retryMs,
        reconnectJitter: 100,
        pingInterval: 10_000,
        // No Error captured per request for async stack traces: measurable CPU at thousands of publishes a second.
        noAsyncTraces: true,
      });
    } catch (err) {
      // Once, then about every 30 s: a service waiting for NATS should not flood its log.
      if (this.failures++ % Math.max(1, Math.round(30_000 / this.retryMs)) === 0) {
        log.error({ err, servers }, 'cannot connect to NATS; retrying');
      }
      if (!this.closed) this.retryTimer = setTimeout(() => void this.connectLoop(), this.retryMs);
      return;
    }
    if (this.closed) {
      await this.nc.close();
      return;
    }
    this.connected = true;
    log.info({ server: this.nc.getServer() }, 'connected to NATS');
    void this.watch(this.nc);
    await this.prepare();
  }

  private async watch(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === Events.Disconnect) {
        this.connected = false;
        this.prepared = false;
        this.opts.log.warn({ server: s.data }, 'disconnected from NATS; reconnecting');
      } else if (s.type === Events.Reconnect) {
        this.connected = true;
        this.opts.log.info({ server: s.data }, 'reconnected to NATS');
        void this.prepare();
      }
    }
  }

  private async prepare(): Promise<void> {
    const nc = this.nc;
    if (!nc || this.closed || !this.connected) return;
    try {
      await this.opts.prepare(nc);
    } catch (err) {
      this.opts.log.error({ err }, 'cannot prepare JetStream streams; retrying');
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => void this.prepare(), this.retryMs * 2);
      return;
    }
    if (!this.connected || this.closed) return;
    this.prepared = true;
    const waiters = this.readyWaiters.splice(0);
    for (const w of waiters) w(nc);
  }

  /** Flushes what is pending (acks, publishes) and closes. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retryTimer);
    const nc = this.nc;
    if (!nc || nc.isClosed()) return;
    try {
      if (this.connected) await nc.drain();
      else await nc.close();
    } catch (err) {
      this.opts.log.warn({ err }, 'error while closing NATS');
      if (!nc.isClosed()) await nc.close();
    }
  }
}
