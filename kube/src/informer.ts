// List + watch of one collection into an indexed cache, with the reflector's semantics that
// client-node's informer lacks (operators.md §4.2, §4.6): bookmarks, a server timeout with jitter, an
// idle abort for half-open connections, 410 → relist with deletes for what vanished, jittered
// backoff for transient errors, a stop for terminal ones, and exactly one supervisor loop.
import type { Logger } from '@mecqkd/common/logger';
import { createLogger } from '@mecqkd/common/logger';
import { Backoff, type BackoffOptions, sleep } from './backoff.ts';
import type { KubeClient, Parse, WatchEvent } from './kube-client.ts';
import { isGone, isRetryable, KubeApiError } from './kube-errors.ts';
import { objectKey } from './kube-paths.ts';
import { informerMetrics } from './metrics.ts';
import { IndexedStore, type IndexFunc } from './store.ts';
import type { Cache, KubeObject, ObjectKey } from './types.ts';

export interface InformerOptions<T extends KubeObject> {
  /** Names the informer in logs and metrics, e.g. "appcontexts". */
  name: string;
  client: KubeClient;
  /** Collection path from kube-paths (namespaced or across all namespaces). */
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** LIST page size (default 500); 0 lists in one request. */
  pageSize?: number;
  /** Watch duration asked of the server, shortened by up to 20 % at random per watch (default 300). */
  watchTimeoutSeconds?: number;
  /** No event or bookmark for this long → reconnect (default 70 s: bookmarks come about every minute). */
  idleTimeoutMs?: number;
  backoff?: BackoffOptions;
  /**
   * Validates each object (zod at the boundary). A version that fails is not a deletion: the cache
   * keeps the object's last good version (none for an object never seen valid), and the failure is
   * logged, counted and handed to `onInvalid` (e.g. to record an Event).
   */
  parse?: Parse<T>;
  onInvalid?: (obj: KubeObject, error: Error) => void;
  logger?: Logger;
}

export interface InformerHandlers<T> {
  add: (obj: T) => void;
  update: (oldObj: T, newObj: T) => void;
  delete: (obj: T) => void;
}

export interface InformerStats {
  /** Full relists (a paginated LIST counts once). */
  lists: number;
  /** WATCH requests opened. */
  watches: number;
  /** Relists caused by 410 Gone. */
  expired: number;
  /** Reconnects after an error (not counting clean server-side timeouts). */
  errors: number;
}

/** A watch that ends sooner than this without any event is treated like an error (no hot loop). */
const SHORT_WATCH_MS = 1000;

export class Informer<T extends KubeObject> implements Cache<T> {
  readonly name: string;
  readonly stats: InformerStats = { lists: 0, watches: 0, expired: 0, errors: 0 };
  /** The error that stopped the informer for good (a non-retryable answer such as 401, 403 or 404). */
  failure?: KubeApiError;
  /** Settles with `failure` when it is set: what a leader's work races against to end itself. */
  readonly failed: Promise<KubeApiError>;
  lastEventAt?: number;

  private readonly store = new IndexedStore<T>();
  private readonly handlers: { [E in keyof InformerHandlers<T>]: InformerHandlers<T>[E][] } = {
    add: [],
    update: [],
    delete: [],
  };
  private readonly log: Logger;
  private resourceVersion = '';
  private synced = false;
  private watching = false;
  private stopped = false;
  private generation = 0;
  private loop?: Promise<void>;
  private readonly abort = new AbortController();
  private readonly syncWaiters: (() => void)[] = [];
  /** Keys whose latest version failed validation. */
  private readonly rejected = new Set<ObjectKey>();
  private reportFailure!: (err: KubeApiError) => void;

  constructor(private readonly opts: InformerOptions<T>) {
    this.failed = new Promise((resolve) => {
      this.reportFailure = resolve;
    });
    this.name = opts.name;
    this.log = opts.logger ?? createLogger(`informer/${opts.name}`);
  }

  on<E extends keyof InformerHandlers<T>>(event: E, handler: InformerHandlers<T>[E]): this {
    this.handlers[event].push(handler);
    return this;
  }

  /** Removes a handler added with on(); one added several times goes once per call. */
  off<E extends keyof InformerHandlers<T>>(event: E, handler: InformerHandlers<T>[E]): this {
    const list = this.handlers[event];
    const at = list.indexOf(handler);
    if (at >= 0) list.splice(at, 1);
    return this;
  }

  addIndex(name: string, fn: IndexFunc<T>): this {
    this.store.addIndex(name, fn);
    return this;
  }

  byIndex(name: string, value: string): T[] {
    return this.store.byIndex(name, value);
  }

  get(key: ObjectKey): T | undefined {
    return this.store.get(key);
  }

  list(namespace?: string): T[] {
    return this.store.list(namespace);
  }

  values(namespace?: string): Iterable<T> {
    return this.store.values(namespace);
  }

  get size(): number {
    return this.store.size;
  }

  /** Keys (of `namespace`, or all) whose latest version failed validation. */
  rejectedKeys(namespace?: string): ObjectKey[] {
    const all = [...this.rejected];
    return namespace === undefined ? all : all.filter((k) => k.startsWith(`${namespace}/`));
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Synced, not failed, and either watching or within a reconnect: what /readyz reports. */
  healthy(): boolean {
    return this.synced && !this.failure && !this.stopped;
  }

  isWatching(): boolean {
    return this.watching;
  }

  /** Starts the supervisor loop; a second call is a no-op, a call after stop() an error. */
  start(): this {
    if (this.stopped) throw new Error(`informer ${this.name} was stopped; create a new one`);
    if (!this.loop) {
      const gen = ++this.generation;
      this.loop = this.supervise(gen);
    }
    return this;
  }

  /** Resolves once the first LIST is in the cache; rejects after `timeoutMs` or if the informer fails. */
  waitForSync(timeoutMs = 120_000): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`informer ${this.name} not synced after ${timeoutMs} ms`, { cause: this.failure }),
          ),
        timeoutMs,
      );
      this.syncWaiters.push(() => {
        clearTimeout(timer);
        if (this.failure) reject(new Error(`informer ${this.name} failed`, { cause: this.failure }));
        else resolve();
      });
    });
  }

  /** Final: closes the watch and waits for the loop to end; handlers are not called afterwards. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.generation++;
    this.abort.abort();
    await this.loop;
    this.releaseSyncWaiters();
  }

  private live(gen: number): boolean {
    return !this.stopped && gen === this.generation;
  }

  private async supervise(gen: number): Promise<void> {
    const backoff = new Backoff(this.opts.backoff);
    while (this.live(gen)) {
      const started = Date.now();
      try {
        if (!this.resourceVersion) await this.relist(gen);
        const events = await this.watchOnce(gen);
        if (events === 0 && Date.now() - started < SHORT_WATCH_MS && this.live(gen)) {
          await sleep(backoff.next(), this.abort.signal);
        } else {
          backoff.reset();
        }
      } catch (err) {
        if (!this.live(gen)) break;
        if (isGone(err)) {
          this.stats.expired++;
          this.log.info('Watch expired, relisting', {
            informer: this.name,
            resourceVersion: this.resourceVersion,
          });
          this.resourceVersion = '';
          continue;
        }
        if (err instanceof KubeApiError && !isRetryable(err)) {
          this.failure = err;
          this.reportFailure(err);
          this.log.error('Informer stopped on a non-retryable error', {
            informer: this.name,
            error: err.message,
          });
          this.releaseSyncWaiters();
          break;
        }
        if (err instanceof KubeApiError && err.reason === 'BadWatchEvent') this.resourceVersion = '';
        this.stats.errors++;
        const delay = backoff.next(Date.now() - started);
        this.log.warn('Watch failed, reconnecting', {
          informer: this.name,
          error: err instanceof Error ? err.message : String(err),
          delayMs: Math.round(delay),
        });
        await sleep(delay, this.abort.signal);
      }
    }
    this.watching = false;
  }

  private async relist(gen: number): Promise<void> {
    const { client, path, labelSelector, fieldSelector } = this.opts;
    const pageSize = this.opts.pageSize ?? 500;
    let list: Awaited<ReturnType<KubeClient['list']>>;
    try {
      list = await client.list(path, { labelSelector, fieldSelector, pageSize });
    } catch (err) {
      // A continue token older than the compaction: client-go falls back to one unpaginated LIST.
      if (!isGone(err) || pageSize === 0) throw err;
      list = await client.list(path, { labelSelector, fieldSelector, pageSize: 0 });
    }
    this.stats.lists++;
    informerMetrics.lists.labels(this.name).inc();
    if (!this.live(gen)) return;
    const fresh = new Map<ObjectKey, T>();
    for (const raw of list.items) {
      const key = objectKey(raw);
      const obj = this.parse(raw) ?? this.store.get(key);
      if (obj) fresh.set(key, obj);
    }
    for (const [key, old] of [...this.store.entries()]) {
      if (!fresh.has(key)) {
        this.store.delete(key);
        this.emit('delete', old);
      }
    }
    for (const [key, obj] of fresh) {
      const old = this.store.set(key, obj);
      if (!old) this.emit('add', obj);
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.emit('update', old, obj);
    }
    this.resourceVersion = list.resourceVersion;
    if (!this.synced) {
      this.synced = true;
      this.releaseSyncWaiters();
    }
  }

  /** One WATCH from the current resourceVersion; returns how many events it delivered. */
  private async watchOnce(gen: number): Promise<number> {
    const { client, path, labelSelector, fieldSelector } = this.opts;
    const timeout = this.opts.watchTimeoutSeconds ?? 300;
    this.stats.watches++;
    informerMetrics.watches.labels(this.name).inc();
    let events = 0;
    try {
      const stream = client.watch(path, {
        resourceVersion: this.resourceVersion,
        labelSelector,
        fieldSelector,
        timeoutSeconds: Math.max(1, Math.round(timeout * (0.8 + 0.2 * Math.random()))),
        idleTimeoutMs: this.opts.idleTimeoutMs ?? 70_000,
        signal: this.abort.signal,
      });
      this.watching = true;
      for await (const ev of stream) {
        if (!this.live(gen)) break;
        events++;
        this.lastEventAt = Date.now();
        informerMetrics.events.labels(this.name, ev.type).inc();
        this.apply(ev);
      }
    } finally {
      this.watching = false;
    }
    return events;
  }

  private apply(ev: WatchEvent<KubeObject>): void {
    const rv = ev.object.metadata?.resourceVersion;
    if (ev.type !== 'BOOKMARK') {
      const key = objectKey(ev.object);
      if (ev.type === 'DELETED') {
        this.rejected.delete(key);
        const old = this.store.delete(key);
        if (old) this.emit('delete', old);
      } else {
        const obj = this.parse(ev.object);
        const old = obj && this.store.set(key, obj);
        if (obj && old) this.emit('update', old, obj);
        else if (obj) this.emit('add', obj);
      }
    }
    if (rv) this.resourceVersion = rv;
  }

  private parse(raw: KubeObject): T | undefined {
    if (!this.opts.parse) return raw as T;
    const key = objectKey(raw);
    try {
      const obj = this.opts.parse(raw);
      this.rejected.delete(key);
      return obj;
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      this.rejected.add(key);
      informerMetrics.invalid.labels(this.name).inc();
      this.log.warn('An object failed validation: the cache keeps its last valid version, if any', {
        informer: this.name,
        key,
        resourceVersion: raw.metadata.resourceVersion,
        kept: this.store.get(key)?.metadata.resourceVersion,
        error: error.message,
      });
      this.opts.onInvalid?.(raw, error);
      return undefined;
    }
  }

  private emit(event: 'add' | 'delete', obj: T): void;
  private emit(event: 'update', oldObj: T, newObj: T): void;
  private emit(event: keyof InformerHandlers<T>, a: T, b?: T): void {
    for (const handler of this.handlers[event]) {
      try {
        if (event === 'update') (handler as InformerHandlers<T>['update'])(a, b!);
        else (handler as InformerHandlers<T>['add'])(a);
      } catch (err) {
        this.log.error('Informer handler threw', {
          informer: this.name,
          event,
          key: objectKey(a),
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
  }

  private releaseSyncWaiters(): void {
    for (const w of this.syncWaiters.splice(0)) w();
  }
}
