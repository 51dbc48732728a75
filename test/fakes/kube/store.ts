// The object store behind the stand-in: one resourceVersion counter for every object, as
// etcd's revision is, and a bounded history of change events that watches resume from.
// Asking to resume from a revision older than the history kept is a 410 Expired, as it is
// on a real API server once etcd has compacted.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { apiVersionOf, resourceType, type ResourceType } from './resources.js';
import { alreadyExists, conflict, expired, notFound } from './status.js';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: EventType;
  plural: string;
  /** The object as it is after the change (the last state for DELETED). */
  object: any;
  /** The object before a MODIFIED change, so a filtered watch can tell an object left its selector. */
  old?: any;
  rv: number;
}

const clone = <T>(v: T): T => structuredClone(v);

/** JSON with sorted keys, so two equal objects compare equal whatever their key order. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );
}

function keyOf(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

/** Emits 'event' (StoreEvent) after every change, for watches and the controllers. */
export class Store extends EventEmitter {
  private rv = 1;
  private readonly objects = new Map<string, Map<string, any>>();
  private readonly history: StoreEvent[] = [];
  /** Watches asking for a revision below this get 410: the history before it is gone. */
  private compactedTo = 1;

  constructor(private readonly historyLimit = 1000) {
    super();
    this.setMaxListeners(0);
  }

  get revision(): number {
    return this.rv;
  }

  get(plural: string, namespace: string | undefined, name: string): any | undefined {
    const found = this.table(plural).get(keyOf(namespace, name));
    return found ? clone(found) : undefined;
  }

  mustGet(plural: string, namespace: string | undefined, name: string): any {
    const found = this.get(plural, namespace, name);
    if (!found) throw notFound(resourceType(plural), name);
    return found;
  }

  list(plural: string, namespace?: string, match: (o: any) => boolean = () => true): any[] {
    return [...this.table(plural).values()]
      .filter((o) => !namespace || o.metadata.namespace === namespace)
      .filter(match)
      .map(clone);
  }

  /** Stores a new object: uid, resourceVersion, creationTimestamp and generation are the server's. */
  create(plural: string, obj: any): any {
    const type = resourceType(plural);
    const table = this.table(plural);
    const key = keyOf(obj.metadata.namespace, obj.metadata.name);
    if (table.has(key)) throw alreadyExists(type, obj.metadata.name);
    const stored = clone(obj);
    stored.apiVersion = apiVersionOf(type);
    stored.kind = type.kind;
    stored.metadata.uid = randomUUID();
    stored.metadata.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    if ('spec' in stored || plural === 'deployments') stored.metadata.generation = 1;
    delete stored.metadata.deletionTimestamp;
    stored.metadata.resourceVersion = String(++this.rv);
    table.set(key, stored);
    this.record('ADDED', plural, stored);
    return clone(stored);
  }

  /**
   * Replaces an object. With expectedRv, a stored object at another revision is a 409
   * Conflict. The generation moves when the spec changes, as the API server does.
   */
  update(plural: string, obj: any, expectedRv?: string): any {
    const type = resourceType(plural);
    const table = this.table(plural);
    const key = keyOf(obj.metadata.namespace, obj.metadata.name);
    const current = table.get(key);
    if (!current) throw notFound(type, obj.metadata.name);
    if (expectedRv && expectedRv !== current.metadata.resourceVersion) throw conflict(type, obj.metadata.name);
    const stored = clone(obj);
    stored.apiVersion = current.apiVersion;
    stored.kind = current.kind;
    stored.metadata.uid = current.metadata.uid;
    stored.metadata.creationTimestamp = current.metadata.creationTimestamp;
    if (current.metadata.deletionTimestamp) stored.metadata.deletionTimestamp = current.metadata.deletionTimestamp;
    if (current.metadata.generation !== undefined) {
      const specChanged = JSON.stringify(current.spec) !== JSON.stringify(stored.spec);
      stored.metadata.generation = current.metadata.generation + (specChanged ? 1 : 0);
    }
    stored.metadata.resourceVersion = current.metadata.resourceVersion;
    // Nothing changed: the API server answers with the object and writes nothing.
    if (canonical(stored) === canonical(current)) return clone(current);
    stored.metadata.resourceVersion = String(++this.rv);
    table.set(key, stored);
    this.record('MODIFIED', plural, stored, current);
    return clone(stored);
  }

  /** Removes an object now and answers its last state. */
  remove(plural: string, namespace: string | undefined, name: string): any {
    const table = this.table(plural);
    const key = keyOf(namespace, name);
    const current = table.get(key);
    if (!current) throw notFound(resourceType(plural), name);
    table.delete(key);
    const last = clone(current);
    last.metadata.resourceVersion = String(++this.rv);
    this.record('DELETED', plural, last);
    return clone(last);
  }

  /**
   * The events after `since` for one resource, for a watch resuming there. Throws 410
   * Expired when the history no longer reaches back that far.
   */
  eventsSince(plural: string, since: string): StoreEvent[] {
    const asked = Number(since);
    if (!Number.isInteger(asked) || asked < 0) throw expired(since, this.compactedTo);
    if (asked < this.compactedTo) throw expired(since, this.compactedTo);
    return this.history.filter((e) => e.plural === plural && e.rv > asked).map((e) => ({ ...e, object: clone(e.object) }));
  }

  /** Forgets the whole history, as an etcd compaction does: older watches resume with 410. */
  compact(): void {
    this.history.length = 0;
    this.compactedTo = this.rv;
  }

  private record(type: EventType, plural: string, object: any, old?: any): void {
    const event: StoreEvent = { type, plural, object: clone(object), old: old && clone(old), rv: Number(object.metadata.resourceVersion) };
    this.history.push(event);
    while (this.history.length > this.historyLimit) {
      const dropped = this.history.shift()!;
      this.compactedTo = dropped.rv;
    }
    this.emit('event', event);
  }

  private table(plural: string): Map<string, any> {
    let table = this.objects.get(plural);
    if (!table) {
      table = new Map();
      this.objects.set(plural, table);
    }
    return table;
  }
}

export type { ResourceType };
