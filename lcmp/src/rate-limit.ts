// Per-client request budgets on Mx2: a token bucket per client (the authenticated client id, or the
// remote address before authentication), a refusal saying when a token is free again. Buckets of
// quiet clients are dropped, so the map holds the clients of the last few minutes only.
import { TokenBucket } from '@mecqkd/kube/token-bucket';

export interface RateLimitOptions {
  /** Requests per second per client; 0 = no limit. */
  perSecond: number;
  /** Requests a quiet client may make at once. */
  burst: number;
  now?: () => number;
}

const IDLE_MS = 5 * 60_000;

export class RateLimiter {
  private readonly buckets = new Map<string, { bucket: TokenBucket; used: number }>();
  private readonly now: () => number;

  constructor(private readonly opts: RateLimitOptions) {
    this.now = opts.now ?? (() => performance.now());
  }

  /** Takes one request of `client`'s budget: 0 when allowed, else the seconds until it would be. */
  take(client: string): number {
    if (this.opts.perSecond <= 0) return 0;
    const now = this.now();
    let entry = this.buckets.get(client);
    if (!entry) {
      this.sweep(now);
      entry = {
        bucket: new TokenBucket({ qps: this.opts.perSecond, burst: this.opts.burst }, this.now),
        used: now,
      };
      this.buckets.set(client, entry);
    }
    entry.used = now;
    if (entry.bucket.tryTake()) return 0;
    return Math.max(1, Math.ceil(1 / this.opts.perSecond));
  }

  private sweep(now: number): void {
    for (const [k, e] of this.buckets) if (now - e.used > IDLE_MS) this.buckets.delete(k);
  }
}
