// A keyed work queue with client-go's semantics (util/workqueue): FIFO; repeated adds collapse while a
// key waits; a key is never handed to two workers at once, and one added while processing runs again
// after done(); delayed adds keep the earliest time; rate-limited adds wait max(per-key exponential
// backoff, global token bucket).
import { onCollect, workqueueMetrics } from './metrics.ts';
import { TokenBucket } from './token-bucket.ts';
import type { ObjectKey } from './types.ts';

export interface WorkQueueOptions {
  /** The `name` label of the workqueue_* metrics. */
  name: string;
  /** Per-key backoff: baseDelayMs · 2^failures, capped at maxDelayMs (client-go: 5 ms, 1000 s). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Global bucket shared by all keys' rate-limited adds (client-go: 10 qps, burst 100). */
  qps?: number;
  burst?: number;
}

export class WorkQueue {
  readonly name: string;
  private queue: ObjectKey[] = [];
  private head = 0;
  private readonly dirty = new Set<ObjectKey>();
  /** Key → when a worker took it (performance.now()). */
  private readonly processing = new Map<ObjectKey, number>();
  private readonly addedAt = new Map<ObjectKey, number>();
  private readonly delayed = new Map<ObjectKey, { at: number; timer: NodeJS.Timeout }>();
  private readonly failures = new Map<ObjectKey, number>();
  private readonly getters: ((key: ObjectKey | undefined) => void)[] = [];
  private readonly drainWaiters: (() => void)[] = [];
  private readonly bucket: TokenBucket;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly stopCollect: () => void;
  private shutdown = false;

  constructor(opts: WorkQueueOptions) {
    this.name = opts.name;
    this.baseDelayMs = opts.baseDelayMs ?? 5;
    this.maxDelayMs = opts.maxDelayMs ?? 1_000_000;
    this.bucket = new TokenBucket({ qps: opts.qps ?? 10, burst: opts.burst ?? 100 });
    this.stopCollect = onCollect(() => this.collect());
    workqueueMetrics.depth.labels(this.name).set(0);
  }

  /** Keys waiting for a worker (not counting delayed or processing ones). */
  len(): number {
    return this.queue.length - this.head;
  }

  isShuttingDown(): boolean {
    return this.shutdown;
  }

  add(key: ObjectKey): void {
    if (this.shutdown || this.dirty.has(key)) return;
    workqueueMetrics.adds.labels(this.name).inc();
    this.dirty.add(key);
    this.addedAt.set(key, performance.now());
    if (this.processing.has(key)) return;
    this.push(key);
  }

  /** Adds `key` after `ms`; a key already waiting keeps whichever time is earlier. */
  addAfter(key: ObjectKey, ms: number): void {
    if (this.shutdown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = performance.now() + ms;
    const waiting = this.delayed.get(key);
    if (waiting) {
      if (waiting.at <= at) return;
      clearTimeout(waiting.timer);
    }
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { at, timer });
  }

  /** Adds after the key's backoff (which then doubles) or the global bucket's delay, whichever is longer. */
  addRateLimited(key: ObjectKey): void {
    if (this.shutdown) return;
    workqueueMetrics.retries.labels(this.name).inc();
    this.addAfter(key, this.when(key));
  }

  /** Resets the key's backoff (after a success). */
  forget(key: ObjectKey): void {
    this.failures.delete(key);
  }

  numRequeues(key: ObjectKey): number {
    return this.failures.get(key) ?? 0;
  }

  /** The next key for a worker, who must call done(key); undefined once the queue shuts down. */
  get(): Promise<ObjectKey | undefined> {
    if (this.shutdown) return Promise.resolve(undefined);
    if (this.len() > 0) return Promise.resolve(this.take(this.pop()));
    return new Promise((resolve) => this.getters.push(resolve));
  }

  done(key: ObjectKey): void {
    const started = this.processing.get(key);
    if (started === undefined) return;
    this.processing.delete(key);
    workqueueMetrics.workDuration.labels(this.name).observe((performance.now() - started) / 1000);
    if (this.dirty.has(key) && !this.shutdown) this.push(key);
    if (this.processing.size === 0) for (const w of this.drainWaiters.splice(0)) w();
  }

  /**
   * Stops handing out keys: waiting get() calls resolve undefined, queued and delayed keys are dropped
   * (level-triggered: whoever runs next relists and requeues everything). Keys being processed finish.
   */
  shutDown(): void {
    if (this.shutdown) return;
    this.shutdown = true;
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    for (const g of this.getters.splice(0)) g(undefined);
    this.queue = [];
    this.head = 0;
    this.dirty.clear();
    this.addedAt.clear();
    this.stopCollect();
    workqueueMetrics.depth.labels(this.name).set(0);
    workqueueMetrics.unfinishedWork.labels(this.name).set(0);
    workqueueMetrics.longestRunning.labels(this.name).set(0);
  }

  /** shutDown(), then wait until every key being processed is done(). */
  async shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.processing.size === 0) return;
    await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
  }

  private when(key: ObjectKey): number {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    const perKey = Math.min(this.baseDelayMs * 2 ** failures, this.maxDelayMs);
    return Math.max(perKey, this.bucket.reserve());
  }

  private push(key: ObjectKey): void {
    const getter = this.getters.shift();
    if (getter) {
      getter(this.take(key));
      return;
    }
    this.queue.push(key);
    workqueueMetrics.depth.labels(this.name).set(this.len());
  }

  private pop(): ObjectKey {
    const key = this.queue[this.head++]!;
    // Drop the consumed prefix now and then instead of shift()ing (O(n)) on every get.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    workqueueMetrics.depth.labels(this.name).set(this.len());
    return key;
  }

  private take(key: ObjectKey): ObjectKey {
    const now = performance.now();
    this.dirty.delete(key);
    this.processing.set(key, now);
    const added = this.addedAt.get(key);
    this.addedAt.delete(key);
    if (added !== undefined) workqueueMetrics.queueDuration.labels(this.name).observe((now - added) / 1000);
    return key;
  }

  private collect(): void {
    const now = performance.now();
    let total = 0;
    let longest = 0;
    for (const started of this.processing.values()) {
      const s = (now - started) / 1000;
      total += s;
      longest = Math.max(longest, s);
    }
    workqueueMetrics.unfinishedWork.labels(this.name).set(total);
    workqueueMetrics.longestRunning.labels(this.name).set(longest);
  }
}
