// Jittered exponential backoff for reconnect loops, with client-go's reflector numbers by default
// (800 ms initial, 30 s cap, x2, jitter 1.0, reset after 2 min of health).

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  factor?: number;
  /** Each delay d becomes d + random * jitter * d. */
  jitter?: number;
  /** A connection that stayed healthy this long resets the delay to initialMs. */
  resetAfterMs?: number;
}

export class Backoff {
  private readonly opts: Required<BackoffOptions>;
  private current: number;

  constructor(
    opts: BackoffOptions = {},
    private readonly random: () => number = Math.random,
  ) {
    this.opts = {
      initialMs: opts.initialMs ?? 800,
      maxMs: opts.maxMs ?? 30_000,
      factor: opts.factor ?? 2,
      jitter: opts.jitter ?? 1,
      resetAfterMs: opts.resetAfterMs ?? 120_000,
    };
    this.current = this.opts.initialMs;
  }

  /** The delay before the next attempt; `healthyForMs` is how long the last attempt ran without error. */
  next(healthyForMs = 0): number {
    if (healthyForMs >= this.opts.resetAfterMs) this.current = this.opts.initialMs;
    const base = this.current;
    this.current = Math.min(this.opts.maxMs, this.current * this.opts.factor);
    return base + this.random() * this.opts.jitter * base;
  }

  reset(): void {
    this.current = this.opts.initialMs;
  }
}

/** Resolves after `ms`, or early (without error) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
