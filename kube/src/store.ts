// An informer's cache: objects by key plus named secondary indexes (e.g. AppContexts by host), kept
// in step on every write so lookups never scan.
import type { KubeObject, ObjectKey } from './types.ts';

export type IndexFunc<T> = (obj: T) => string[];

export class IndexedStore<T extends KubeObject> {
  private readonly items = new Map<ObjectKey, T>();
  /** The same objects by namespace ("" for cluster-scoped): a namespace's objects without a scan. */
  private readonly namespaces = new Map<string, Map<ObjectKey, T>>();
  private readonly indexers = new Map<string, IndexFunc<T>>();
  private readonly indexes = new Map<string, Map<string, Set<ObjectKey>>>();

  get size(): number {
    return this.items.size;
  }

  get(key: ObjectKey): T | undefined {
    return this.items.get(key);
  }

  keys(): IterableIterator<ObjectKey> {
    return this.items.keys();
  }

  entries(): IterableIterator<[ObjectKey, T]> {
    return this.items.entries();
  }

  /** The objects (of `namespace`, or all) without copying them: for lookups on a hot path. */
  values(namespace?: string): IterableIterator<T> {
    if (namespace === undefined) return this.items.values();
    return (this.namespaces.get(namespace) ?? new Map<ObjectKey, T>()).values();
  }

  list(namespace?: string): T[] {
    return [...this.values(namespace)];
  }

  /** Adds a named index; existing objects are indexed at once. */
  addIndex(name: string, fn: IndexFunc<T>): void {
    if (this.indexers.has(name)) throw new Error(`index ${name} already exists`);
    this.indexers.set(name, fn);
    this.indexes.set(name, new Map());
    for (const [key, obj] of this.items) this.indexOne(name, fn, key, obj);
  }

  /** Objects whose index function returned `value` under index `name`. */
  byIndex(name: string, value: string): T[] {
    const index = this.indexes.get(name);
    if (!index) throw new Error(`no index named ${name}`);
    const keys = index.get(value);
    if (!keys) return [];
    return [...keys].map((k) => this.items.get(k)).filter((o): o is T => o !== undefined);
  }

  /** Stores `obj` under `key`; returns the object it replaced. */
  set(key: ObjectKey, obj: T): T | undefined {
    const old = this.items.get(key);
    if (old) this.unindex(key, old);
    this.items.set(key, obj);
    const ns = obj.metadata.namespace ?? '';
    const inNamespace = this.namespaces.get(ns) ?? new Map<ObjectKey, T>();
    inNamespace.set(key, obj);
    this.namespaces.set(ns, inNamespace);
    for (const [name, fn] of this.indexers) this.indexOne(name, fn, key, obj);
    return old;
  }

  delete(key: ObjectKey): T | undefined {
    const old = this.items.get(key);
    if (!old) return undefined;
    this.unindex(key, old);
    this.items.delete(key);
    const ns = old.metadata.namespace ?? '';
    const inNamespace = this.namespaces.get(ns);
    inNamespace?.delete(key);
    if (inNamespace?.size === 0) this.namespaces.delete(ns);
    return old;
  }

  private indexOne(name: string, fn: IndexFunc<T>, key: ObjectKey, obj: T): void {
    const index = this.indexes.get(name)!;
    for (const value of fn(obj)) {
      const keys = index.get(value) ?? new Set<ObjectKey>();
      keys.add(key);
      index.set(value, keys);
    }
  }

  private unindex(key: ObjectKey, obj: T): void {
    for (const [name, fn] of this.indexers) {
      const index = this.indexes.get(name)!;
      for (const value of fn(obj)) {
        const keys = index.get(value);
        keys?.delete(key);
        if (keys?.size === 0) index.delete(value);
      }
    }
  }
}
