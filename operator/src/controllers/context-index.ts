// Who uses what, derived from the AppContexts the informer has cached: contexts per host, per
// (host, action) and per QKD link hop, all keyed by namespace as well as name (two namespaces may
// each have a host edge-1). It is fed by informer events, plus the status writes of this process
// the cache has not shown yet (otherwise a delete racing a placement could remove an action a
// context was just placed on); those are expectations that lapse. Placements decided but not yet
// written (their action is being deployed) count too, while they last, so that decisions taken
// meanwhile by other workers see them. Nothing here counts operations.
import type { AppContext } from '@mecqkd/crds';
import { hasObserved, WriteExpectations } from './expectations.ts';

export interface Usage {
  /** MecHost name (status.host); the host is in the context's namespace. */
  host: string;
  /** "namespace/name" of the MecHost: what every per-host index is keyed by. */
  hostKey: string;
  /** OpenWhisk action name (the app instance). */
  action: string;
  app: string;
  keyPath: string[];
  placedAt: number;
}

/** A context being deleted uses nothing any more: its finalizer is what removes its action. */
function usageOf(ctx: AppContext): Usage | undefined {
  const s = ctx.status;
  if (ctx.metadata.deletionTimestamp) return undefined;
  if (!s?.host || !s.appInstanceId || (s.phase !== 'Placed' && s.phase !== 'Migrating')) return undefined;
  return {
    host: s.host,
    hostKey: `${ctx.metadata.namespace}/${s.host}`,
    action: actionOfInstance(s.appInstanceId),
    app: ctx.spec.appName,
    keyPath: s.keyPath ?? [],
    placedAt: s.placedTime ? Date.parse(s.placedTime) : 0,
  };
}

// Only Pending: a context without a status yet is in the work queue already, and would otherwise be
// re-queued by every host or link event between our status write and its watch event (a third of
// all reconciles at 10,000 contexts went to such no-op passes).
function isWaiting(ctx: AppContext): boolean {
  return !ctx.metadata.deletionTimestamp && ctx.status?.phase === 'Pending';
}

/** appInstanceId is "<host>/<action>". */
export function actionOfInstance(appInstanceId: string): string {
  return appInstanceId.slice(appInstanceId.indexOf('/') + 1);
}

/** One QKD link of a namespace: KME IDs are unique only within the namespace that names them. */
export function linkKey(namespace: string | undefined, a: string, b: string): string {
  return a < b ? `${namespace}|${a}|${b}` : `${namespace}|${b}|${a}`;
}

const PENDING_WRITE_TTL_MS = 60_000;

/** Index of the first element greater than `t` in an ascending array. */
function firstAfter(times: readonly number[], t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function namespaceOf(u: Usage): string {
  return u.hostKey.slice(0, u.hostKey.indexOf('/'));
}

function getOrCreate<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let v = map.get(key);
  if (v === undefined) {
    v = make();
    map.set(key, v);
  }
  return v;
}

interface Seen {
  usage: Usage | undefined;
  waiting: boolean;
}

export interface ContextIndexOptions {
  now?: () => number;
}

export class ContextIndex {
  private readonly usage = new Map<string, Usage>();
  private readonly byHost = new Map<string, Set<string>>();
  /** Per host and app, placement times in ascending order: "placed since" is a binary search. */
  private readonly placedTimes = new Map<string, Map<string, number[]>>();
  /**
   * Contexts that found no feasible host (Pending): retried when hosts or links change. Contexts not
   * yet reconciled are queued already, and Rejected ones wait for their MecApp.
   */
  private readonly waiting = new Set<string>();
  /** link key → app → contexts routed over it */
  private readonly byLink = new Map<string, Map<string, number>>();
  /** What the cache shows of each context, with its resourceVersion. */
  private readonly observed = new Map<string, Seen & { rv: string | undefined }>();
  /** Status writes of this process the cache has not shown yet: they stand in for it meanwhile. */
  private readonly writes: WriteExpectations<Seen>;
  /** Placements decided and being carried out (deploy, then status write): they count meanwhile. */
  private readonly planned = new Map<string, Usage>();
  /** Reconciles put off because the cache lagged our write: re-queued when the watch catches up. */
  private readonly deferred = new Set<string>();
  private onCaughtUp: (key: string) => void = () => {};

  constructor(opts: ContextIndexOptions = {}) {
    this.writes = new WriteExpectations<Seen>(PENDING_WRITE_TTL_MS, opts.now);
  }

  /** Called with the key of a deferred reconcile once the cache shows what this process wrote. */
  whenCaughtUp(fn: (key: string) => void): void {
    this.onCaughtUp = fn;
  }

  /** Informer add/update. */
  upsert(key: string, ctx: AppContext): void {
    const rv = ctx.metadata.resourceVersion;
    this.observed.set(key, { usage: usageOf(ctx), waiting: isWaiting(ctx), rv });
    this.writes.waiting(key, rv, () => {
      if (this.deferred.delete(key)) this.onCaughtUp(key);
    });
    this.apply(key);
  }

  /** Informer delete. */
  remove(key: string): void {
    this.observed.delete(key);
    this.deferred.delete(key);
    this.writes.forget(key);
    this.apply(key);
  }

  /**
   * A status this process wrote (the apiserver's answer), ahead of the watch event; `overwritten` is
   * the version the write replaced. Nothing to wait for when the cache shows it (or newer) already.
   */
  wrote(key: string, ctx: AppContext, overwritten?: string): void {
    const rv = ctx.metadata.resourceVersion;
    if (!rv || hasObserved(this.observed.get(key)?.rv, rv, overwritten)) return;
    this.writes.expect(key, rv, overwritten, { usage: usageOf(ctx), waiting: isWaiting(ctx) });
    this.apply(key);
  }

  /** A placement decided for `key`, counted until `unplan` (its write, or its failure, is known). */
  plan(key: string, usage: Usage): void {
    this.planned.set(key, usage);
    this.apply(key);
  }

  unplan(key: string): void {
    if (this.planned.delete(key)) this.apply(key);
  }

  private apply(key: string): void {
    const plan = this.planned.get(key);
    const seen = plan
      ? { usage: plan, waiting: false }
      : (this.writes.waiting(key, this.observed.get(key)?.rv) ?? this.observed.get(key));
    if (seen?.waiting) this.waiting.add(key);
    else this.waiting.delete(key);
    const next = seen?.usage;
    const prev = this.usage.get(key);
    if (prev) this.detach(key, prev);
    if (next) {
      this.usage.set(key, next);
      this.attach(key, next);
    } else {
      this.usage.delete(key);
    }
  }

  private attach(key: string, u: Usage): void {
    const set = getOrCreate(this.byHost, u.hostKey, () => new Set<string>());
    set.add(key);
    const perApp = getOrCreate(this.placedTimes, u.hostKey, () => new Map<string, number[]>());
    const times = getOrCreate(perApp, u.app, () => [] as number[]);
    times.splice(firstAfter(times, u.placedAt), 0, u.placedAt);
    for (let i = 1; i < u.keyPath.length; i++) {
      const lk = linkKey(namespaceOf(u), u.keyPath[i - 1]!, u.keyPath[i]!);
      const apps = getOrCreate(this.byLink, lk, () => new Map<string, number>());
      apps.set(u.app, (apps.get(u.app) ?? 0) + 1);
    }
  }

  private detach(key: string, u: Usage): void {
    const set = this.byHost.get(u.hostKey);
    set?.delete(key);
    if (set?.size === 0) this.byHost.delete(u.hostKey);
    const perApp = this.placedTimes.get(u.hostKey);
    const times = perApp?.get(u.app);
    if (perApp && times) {
      times.splice(firstAfter(times, u.placedAt) - 1, 1);
      if (times.length === 0) perApp.delete(u.app);
      if (perApp.size === 0) this.placedTimes.delete(u.hostKey);
    }
    for (let i = 1; i < u.keyPath.length; i++) {
      const lk = linkKey(namespaceOf(u), u.keyPath[i - 1]!, u.keyPath[i]!);
      const apps = this.byLink.get(lk);
      if (!apps) continue;
      const n = (apps.get(u.app) ?? 0) - 1;
      if (n > 0) apps.set(u.app, n);
      else apps.delete(u.app);
      if (apps.size === 0) this.byLink.delete(lk);
    }
  }

  /**
   * True while the cache still shows an older version than this process wrote (acting on it would
   * conflict); the key is then handed to whenCaughtUp's callback once the watch delivers the write.
   * A write the cache has shown (or passed), or one that lapsed, no longer holds anything up.
   */
  deferIfBehind(key: string, ctx: AppContext): boolean {
    if (!this.writes.has(key)) return false;
    let done = false;
    this.writes.waiting(key, ctx.metadata.resourceVersion, () => {
      done = true;
    });
    if (done) {
      this.deferred.delete(key);
      this.apply(key);
      return false;
    }
    this.deferred.add(key);
    return true;
  }

  contextsOn(hostKey: string): string[] {
    return [...(this.byHost.get(hostKey) ?? [])];
  }

  contextCount(hostKey: string): number {
    return this.byHost.get(hostKey)?.size ?? 0;
  }

  /** Contexts other than `except` whose instance on `host` is `action`. */
  actionUsers(hostKey: string, action: string, except?: string): number {
    let n = 0;
    for (const key of this.byHost.get(hostKey) ?? []) {
      if (key !== except && this.usage.get(key)?.action === action) n++;
    }
    return n;
  }

  /** Actions that must exist on the host, each with the app of (one of) the contexts using it. */
  actionsOn(hostKey: string): Map<string, string> {
    const apps = new Map<string, string>();
    for (const key of this.byHost.get(hostKey) ?? []) {
      const u = this.usage.get(key);
      if (u) apps.set(u.action, u.app);
    }
    return apps;
  }

  /** Contexts per app of `namespace` routed over the link between KMEs a and b. */
  linkUsers(namespace: string | undefined, a: string, b: string): ReadonlyMap<string, number> {
    return this.byLink.get(linkKey(namespace, a, b)) ?? new Map();
  }

  /**
   * Sum of `weightOf(app)` over the contexts placed on `host` after `since` (epoch ms): the load no
   * measurement shows yet. Called for every host on every placement, so it allocates nothing.
   */
  placedSince(hostKey: string, since: number, weightOf: (app: string) => number): number {
    let sum = 0;
    for (const [app, times] of this.placedTimes.get(hostKey) ?? []) {
      const n = times.length - firstAfter(times, since);
      if (n > 0) sum += n * weightOf(app);
    }
    return sum;
  }

  /** Contexts without a host yet. */
  waitingContexts(): string[] {
    return [...this.waiting];
  }

  /** Every placed context with its usage. */
  placed(): IterableIterator<[string, Usage]> {
    return this.usage.entries();
  }
}
