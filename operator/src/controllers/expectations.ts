// Own writes the informer has not shown yet, tracked the way the ReplicaSet controller tracks its
// expectations: an expectation is met once the cache holds our version or anything newer, and it
// lapses after a TTL, checked whenever it is read, so a reconcile waiting on it is never put off
// for good (the cache may skip our version: a relist after 410, or another writer right after us).

/** etcd3 resourceVersions are increasing integers; anything else can only be compared for equality. */
function asInteger(rv: string | undefined): bigint | undefined {
  return rv !== undefined && /^\d{1,30}$/.test(rv) ? BigInt(rv) : undefined;
}

/** True when `cached` is `written` or a version after it. */
export function hasObserved(cached: string | undefined, written: string, overwritten?: string): boolean {
  if (cached === undefined) return false;
  if (cached === written) return true;
  const c = asInteger(cached);
  const w = asInteger(written);
  if (c !== undefined && w !== undefined) return c >= w;
  // opaque versions: anything but the version our write replaced came after it
  return overwritten !== undefined && cached !== overwritten;
}

interface Expectation<V> {
  written: string;
  overwritten: string | undefined;
  value: V;
  at: number;
}

export class WriteExpectations<V> {
  private readonly pending = new Map<string, Expectation<V>>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records a write of `key` (the version the apiserver answered and the one it replaced). */
  expect(key: string, written: string, overwritten: string | undefined, value: V): void {
    this.pending.set(key, { written, overwritten, value, at: this.now() });
  }

  /**
   * The value of an expectation still waiting for the cache to show it, given the version the cache
   * holds; a met or lapsed expectation is dropped (and `onDone` told) instead.
   */
  waiting(key: string, cached: string | undefined, onDone?: () => void): V | undefined {
    const e = this.pending.get(key);
    if (!e) return undefined;
    if (hasObserved(cached, e.written, e.overwritten) || this.now() - e.at > this.ttlMs) {
      this.pending.delete(key);
      onDone?.();
      return undefined;
    }
    return e.value;
  }

  has(key: string): boolean {
    return this.pending.has(key);
  }

  forget(key: string): void {
    this.pending.delete(key);
  }
}
