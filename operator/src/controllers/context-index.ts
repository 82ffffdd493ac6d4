// Who uses what, derived from the AppContexts the informer has cached: contexts per host, per
// (host, action) and per QKD link hop. It is fed by informer events only, plus the status writes
// of this process that the watch has not delivered yet (otherwise a delete racing a placement
// could remove an action a context was just placed on). Nothing here counts operations.
import type { AppContext } from '@mecqkd/crds';

export interface Usage {
  host: string;
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
    action: actionOfInstance(s.appInstanceId),
    app: ctx.spec.appName,
    keyPath: s.keyPath ?? [],
    placedAt: s.placedTime ? Date.parse(s.placedTime) : 0,
  };
}

/** appInstanceId is "<host>/<action>". */
export function instanceId(host: string, action: string): string {
  return `${host}/${action}`;
}

export function actionOfInstance(appInstanceId: string): string {
  return appInstanceId.slice(appInstanceId.indexOf('/') + 1);
}

export function linkKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
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

function getOrCreate<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let v = map.get(key);
  if (v === undefined) {
    v = make();
    map.set(key, v);
  }
  return v;
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
  /** Status writes of this process not yet seen through the watch: key → resourceVersion written. */
  private readonly pendingWrites = new Map<string, { rv: string; usage: Usage | undefined; at: number }>();
  private readonly observed = new Map<string, Usage | undefined>();
  /** Reconciles put off because the cache lagged our write: re-queued when the watch catches up. */
  private readonly deferred = new Set<string>();
  private onCaughtUp: (key: string) => void = () => {};

  /** Called with the key of a deferred reconcile once the cache shows what this process wrote. */
  whenCaughtUp(fn: (key: string) => void): void {
    this.onCaughtUp = fn;
  }

  /** Informer add/update. */
  upsert(key: string, ctx: AppContext): void {
    const pending = this.pendingWrites.get(key);
    if (
      pending &&
      (pending.rv === ctx.metadata.resourceVersion || Date.now() - pending.at > PENDING_WRITE_TTL_MS)
    ) {
      this.pendingWrites.delete(key);
      if (this.deferred.delete(key)) this.onCaughtUp(key);
    }
    this.observed.set(key, usageOf(ctx));
    // while our own write is unseen, its status says whether the context waits, not a stale event
    if (!this.pendingWrites.has(key)) this.trackWaiting(key, ctx);
    this.apply(key);
  }

  // Only Pending: a context without a status yet is in the work queue already, and would otherwise be
  // re-queued by every host or link event between our status write and its watch event (a third of
  // all reconciles at 10,000 contexts went to such no-op passes).
  private trackWaiting(key: string, ctx: AppContext): void {
    if (!ctx.metadata.deletionTimestamp && ctx.status?.phase === 'Pending') this.waiting.add(key);
    else this.waiting.delete(key);
  }

  /** Informer delete. */
  remove(key: string): void {
    this.observed.delete(key);
    this.deferred.delete(key);
    this.waiting.delete(key);
    this.pendingWrites.delete(key);
    this.apply(key);
  }

  /** A status this process wrote (the apiserver's answer), ahead of the watch event. */
  wrote(key: string, ctx: AppContext): void {
    if (!ctx.metadata.resourceVersion) return;
    this.pendingWrites.set(key, { rv: ctx.metadata.resourceVersion, usage: usageOf(ctx), at: Date.now() });
    this.trackWaiting(key, ctx);
    this.apply(key);
  }

  private apply(key: string): void {
    const pending = this.pendingWrites.get(key);
    const next = pending ? pending.usage : this.observed.get(key);
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
    const set = getOrCreate(this.byHost, u.host, () => new Set<string>());
    set.add(key);
    const perApp = getOrCreate(this.placedTimes, u.host, () => new Map<string, number[]>());
    const times = getOrCreate(perApp, u.app, () => [] as number[]);
    times.splice(firstAfter(times, u.placedAt), 0, u.placedAt);
    for (let i = 1; i < u.keyPath.length; i++) {
      const lk = linkKey(u.keyPath[i - 1]!, u.keyPath[i]!);
      const apps = getOrCreate(this.byLink, lk, () => new Map<string, number>());
      apps.set(u.app, (apps.get(u.app) ?? 0) + 1);
    }
  }

  private detach(key: string, u: Usage): void {
    const set = this.byHost.get(u.host);
    set?.delete(key);
    if (set?.size === 0) this.byHost.delete(u.host);
    const perApp = this.placedTimes.get(u.host);
    const times = perApp?.get(u.app);
    if (perApp && times) {
      times.splice(firstAfter(times, u.placedAt) - 1, 1);
      if (times.length === 0) perApp.delete(u.app);
      if (perApp.size === 0) this.placedTimes.delete(u.host);
    }
    for (let i = 1; i < u.keyPath.length; i++) {
      const lk = linkKey(u.keyPath[i - 1]!, u.keyPath[i]!);
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
   */
  deferIfBehind(key: string, ctx: AppContext): boolean {
    const pending = this.pendingWrites.get(key);
    if (pending === undefined || pending.rv === ctx.metadata.resourceVersion) return false;
    this.deferred.add(key);
    return true;
  }

  usageOf(key: string): Usage | undefined {
    return this.usage.get(key);
  }

  contextsOn(host: string): string[] {
    return [...(this.byHost.get(host) ?? [])];
  }

  contextCount(host: string): number {
    return this.byHost.get(host)?.size ?? 0;
  }

  /** Contexts other than `except` whose instance on `host` is `action`. */
  actionUsers(host: string, action: string, except?: string): number {
    let n = 0;
    for (const key of this.byHost.get(host) ?? []) {
      if (key !== except && this.usage.get(key)?.action === action) n++;
    }
    return n;
  }

  /** Actions that must exist on `host`: each used by at least one placed context. */
  actionsOn(host: string): Set<string> {
    const names = new Set<string>();
    for (const key of this.byHost.get(host) ?? []) {
      const u = this.usage.get(key);
      if (u) names.add(u.action);
    }
    return names;
  }

  /** Contexts per app routed over the link between KMEs a and b. */
  linkUsers(a: string, b: string): ReadonlyMap<string, number> {
    return this.byLink.get(linkKey(a, b)) ?? new Map();
  }

  /**
   * Sum of `weightOf(app)` over the contexts placed on `host` after `since` (epoch ms): the load no
   * measurement shows yet. Called for every host on every placement, so it allocates nothing.
   */
  placedSince(host: string, since: number, weightOf: (app: string) => number): number {
    let sum = 0;
    for (const [app, times] of this.placedTimes.get(host) ?? []) {
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
