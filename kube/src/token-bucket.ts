// A token bucket that hands out reservations (client-go's BucketRateLimiter uses
// rate.Limiter.Reserve().Delay()): taking a token never fails, it returns how long to wait.

export interface TokenBucketOptions {
  /** Tokens added per second; 0 or less disables the limit. */
  qps: number;
  /** Bucket size: how many takes may happen at once after a quiet period. */
  burst: number;
}

export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly qps: number;
  private readonly burst: number;

  constructor(
    opts: TokenBucketOptions,
    private readonly now: () => number = performance.now.bind(performance),
  ) {
    if (opts.qps > 0 && !(opts.burst >= 1))
      throw new Error(`token bucket burst must be >= 1, got ${opts.burst}`);
    this.qps = opts.qps;
    this.burst = opts.burst;
    this.tokens = opts.burst;
    this.last = this.now();
  }

  /** Takes one token and returns the delay in ms before the caller may act (0 when a token was free). */
  reserve(): number {
    if (this.qps <= 0) return 0;
    this.refill();
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000;
  }

  /** Takes a token only if one is free now (a spam filter: drop rather than wait). */
  tryTake(): boolean {
    if (this.qps <= 0) return true;
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
  }
}
