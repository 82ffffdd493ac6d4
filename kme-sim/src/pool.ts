// Keys a KME holds for slave SAEs: each key waits for every authorised slave to fetch it once, then is gone;
// unfetched keys expire. All checks and removals of one request run in one synchronous step, so concurrent
// requests can never both take the same key.
interface Reservation {
  key: Buffer;
  master: string;
  slaves: Set<string>;
  pending: Set<string>;
  expiresAt: number;
}

export type TakeResult = { ok: true; keys: Buffer[] } | { ok: false; reason: 'not-found' | 'unauthorised' };

export class KeyPool {
  private readonly reservations = new Map<string, Reservation>();

  constructor(private readonly ttlMs: number) {}

  add(keyIds: string[], keys: Buffer[], master: string, slaves: string[], now = Date.now()): void {
    keyIds.forEach((id, i) => {
      if (this.reservations.has(id)) throw new Error(`key ID ${id} is already reserved`);
      this.reservations.set(id, {
        key: keys[i] as Buffer,
        master,
        slaves: new Set(slaves),
        pending: new Set(slaves),
        expiresAt: now + this.ttlMs,
      });
    });
  }

  /**
   * Hands `keyIds` reserved by `master` to `caller`, all or nothing. A key the caller may never have →
   * unauthorised (QKD 014 §5.4: 401 for the whole request); unknown, expired or already fetched by the
   * caller → not-found.
   */
  take(caller: string, master: string, keyIds: string[], now = Date.now()): TakeResult {
    const found: Reservation[] = [];
    for (const id of keyIds) {
      const r = this.reservations.get(id);
      if (!r || r.master !== master || r.expiresAt <= now) return { ok: false, reason: 'not-found' };
      found.push(r);
    }
    if (found.some((r) => !r.slaves.has(caller))) return { ok: false, reason: 'unauthorised' };
    if (found.some((r) => !r.pending.has(caller))) return { ok: false, reason: 'not-found' };
    keyIds.forEach((id, i) => {
      const r = found[i] as Reservation;
      r.pending.delete(caller);
      if (r.pending.size === 0) this.reservations.delete(id);
    });
    return { ok: true, keys: found.map((r) => r.key) };
  }

  /** Drops every reservation in `keyIds` (a multi-KME delivery that failed elsewhere). */
  void(keyIds: string[]): void {
    for (const id of keyIds) this.reservations.delete(id);
  }

  sweep(now = Date.now()): number {
    let dropped = 0;
    for (const [id, r] of this.reservations) {
      if (r.expiresAt <= now) {
        this.reservations.delete(id);
        dropped++;
      }
    }
    return dropped;
  }

  get size(): number {
    return this.reservations.size;
  }
}
