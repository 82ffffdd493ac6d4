// Leader election on a coordination.k8s.io/v1 Lease with client-go's algorithm and defaults
// (tools/leaderelection): optimistic updates keyed on resourceVersion, expiry judged on this
// process's monotonic clock from when it observed the record change (not the record's timestamps,
// so neither clock skew nor a wall-clock step matters), MicroTime stamps, and release on shutdown
// once the guarded work has finished. Leadership that ends other than by stop() (the Lease not
// renewed within the renew deadline, or the guarded work failing) rejects run() once the work has
// stopped, so that the process exits and its supervisor restarts it, as controller-runtime does.
import { createLogger, type Logger } from '@mecqkd/common/logger';
import { z } from 'zod';
import { sleep } from './backoff.ts';
import type { KubeClient } from './kube-client.ts';
import { isConflict } from './kube-errors.ts';
import { collectionPath, objectPath, type ResourceType } from './kube-paths.ts';
import { leaderElectionMetrics } from './metrics.ts';
import { microTimeNow } from './microtime.ts';

const LEASES: ResourceType = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases' };
/** client-go's JitterFactor: retries wait retryPeriod · (1 + random · 1.2). */
const JITTER = 1.2;

const leaseSchema = z.looseObject({
  metadata: z.looseObject({ name: z.string(), resourceVersion: z.string().optional() }),
  spec: z
    .looseObject({
      holderIdentity: z.string().optional(),
      leaseDurationSeconds: z.int().optional(),
      acquireTime: z.string().optional(),
      renewTime: z.string().optional(),
      leaseTransitions: z.int().optional(),
    })
    .optional(),
});
export type Lease = z.infer<typeof leaseSchema>;
const parseLease = (v: unknown) => leaseSchema.parse(v);

export const leaderElectionOptionsSchema = z
  .object({
    namespace: z.string().min(1),
    /** Lease name, also the `name` label of leader_election_master_status. */
    name: z.string().min(1),
    /** Unique per replica, e.g. the pod name plus a random suffix. */
    identity: z.string().min(1),
    leaseDurationMs: z.int().min(1000).default(15_000),
    renewDeadlineMs: z.int().min(1).default(10_000),
    retryPeriodMs: z.int().min(1).default(2_000),
    releaseOnCancel: z.boolean().default(true),
    /**
     * After a loss, how long the guarded work may take to stop before run() rejects anyway (default
     * leaseDuration − renewDeadline: another replica may lead from then on).
     */
    workStopTimeoutMs: z.int().min(0).optional(),
  })
  .refine((o) => o.leaseDurationMs > o.renewDeadlineMs, 'leaseDurationMs must exceed renewDeadlineMs')
  .refine(
    (o) => o.renewDeadlineMs > JITTER * o.retryPeriodMs,
    'renewDeadlineMs must exceed 1.2 × retryPeriodMs',
  );

/** What the elector needs of a client: every call takes the attempt's abort signal. */
export type LeaseClient = Pick<KubeClient, 'get' | 'create' | 'replace'>;

/** Milliseconds on a monotonic clock (performance.now by default; injectable for tests). */
export type MonotonicClock = () => number;

export interface LeaderCallbacks {
  /**
   * Runs once leadership is acquired; `signal` aborts when it ends. Leading lasts as long as this
   * promise is pending: its settling before `signal` aborted (a rejection, or a return while still
   * leading) ends leadership and rejects run(). It is awaited before the Lease is released.
   */
  onStartedLeading: (signal: AbortSignal) => void | Promise<void>;
  /** Leadership ended (lost, failed or released), after the guarded work stopped or its stop timed out. */
  onStoppedLeading?: () => void;
  onNewLeader?: (identity: string) => void;
}

/** run()'s rejection when leadership ended other than by stop(): the process should exit non-zero. */
export class LeadershipEndedError extends Error {
  constructor(
    readonly reason: 'lost' | 'work-failed',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'LeadershipEndedError';
  }
}

type LoopEnd = 'stopped' | 'lost' | 'work-ended';

export class LeaderElector {
  private readonly opts: z.output<typeof leaderElectionOptionsSchema>;
  private readonly path: string;
  private readonly log: Logger;
  private readonly stopping = new AbortController();
  private lease?: Lease;
  private observed?: { holder: string; renewTime: string; at: number; durationMs: number };
  private leader = false;
  private running?: Promise<void>;
  private lastRenewAt = 0;

  constructor(
    private readonly client: LeaseClient,
    options: z.input<typeof leaderElectionOptionsSchema>,
    private readonly callbacks: LeaderCallbacks,
    logger?: Logger,
    private readonly now: MonotonicClock = () => performance.now(),
  ) {
    this.opts = leaderElectionOptionsSchema.parse(options);
    this.path = objectPath(LEASES, this.opts.namespace, this.opts.name);
    this.log = logger ?? createLogger('leader-election');
    leaderElectionMetrics.masterStatus.labels(this.opts.name).set(0);
  }

  isLeader(): boolean {
    return this.leader;
  }

  /** Current holder as last observed (possibly stale by up to one retry period). */
  observedLeader(): string | undefined {
    return this.observed?.holder || undefined;
  }

  /** For /healthz: false when leading but the last renewal is older than the renew deadline (a stuck loop). */
  healthy(): boolean {
    return (
      !this.leader || this.now() - this.lastRenewAt <= this.opts.renewDeadlineMs + this.opts.retryPeriodMs
    );
  }

  /**
   * Campaigns and leads. Resolves after stop(); rejects with LeadershipEndedError when the Lease was
   * lost or the guarded work failed, once that work has stopped. Call once.
   */
  run(): Promise<void> {
    this.running ??= this.campaign();
    return this.running;
  }

  /** Ends leadership: aborts the guarded work, waits for it, releases the Lease (if configured). */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running?.catch(() => {});
  }

  private async campaign(): Promise<void> {
    if (!(await this.acquire())) return;
    this.setLeader(true);
    this.log.info('Acquired leadership', { lease: this.opts.name, identity: this.opts.identity });
    const leading = new AbortController();
    const workEnded = new AbortController();
    let workFailure: unknown;
    const guarded = Promise.resolve()
      .then(() => this.callbacks.onStartedLeading(leading.signal))
      .then(
        () => {
          if (!leading.signal.aborted) workFailure = new Error('the leader work returned while leading');
        },
        (err: unknown) => {
          if (!leading.signal.aborted) workFailure = err;
          else this.log.error('Leader work failed while stopping', { error: message(err) });
        },
      )
      .finally(() => workEnded.abort());
    const end = await this.renewLoop(AbortSignal.any([this.stopping.signal, workEnded.signal]));
    // From here on nothing this replica does may rely on holding the Lease.
    this.setLeader(false);
    leading.abort();
    if (end === 'lost') {
      this.log.error('Lost leadership: the Lease was not renewed within the renew deadline', {
        lease: this.opts.name,
        identity: this.opts.identity,
        renewDeadlineMs: this.opts.renewDeadlineMs,
      });
      const timeoutMs = this.opts.workStopTimeoutMs ?? this.opts.leaseDurationMs - this.opts.renewDeadlineMs;
      if (!(await settlesWithin(guarded, timeoutMs))) {
        this.log.error('Leader work did not stop in time', { lease: this.opts.name, timeoutMs });
      }
      this.callbacks.onStoppedLeading?.();
      throw new LeadershipEndedError(
        'lost',
        `lease ${this.opts.namespace}/${this.opts.name} not renewed within ${this.opts.renewDeadlineMs} ms`,
      );
    }
    // ReleaseOnCancel: the guarded work must be over before another replica may start it.
    await guarded;
    if (this.opts.releaseOnCancel) await this.release();
    this.callbacks.onStoppedLeading?.();
    if (workFailure !== undefined) {
      this.log.error('Leader work failed; leadership ends', { error: message(workFailure) });
      throw new LeadershipEndedError('work-failed', `leader work failed: ${message(workFailure)}`, {
        cause: workFailure,
      });
    }
  }

  private setLeader(leader: boolean): void {
    this.leader = leader;
    leaderElectionMetrics.masterStatus.labels(this.opts.name).set(leader ? 1 : 0);
  }

  private async acquire(): Promise<boolean> {
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      if ((await this.attempt(this.opts.renewDeadlineMs)) === 'done') return true;
      await sleep(this.opts.retryPeriodMs * (1 + Math.random() * JITTER), signal);
    }
    return false;
  }

  /** Renews every retry period until a renewal fails for renewDeadline ('lost') or `until` aborts. */
  private async renewLoop(until: AbortSignal): Promise<LoopEnd> {
    const ended = (): LoopEnd => (this.stopping.signal.aborted ? 'stopped' : 'work-ended');
    while (!until.aborted) {
      await sleep(this.opts.retryPeriodMs, until);
      if (until.aborted) break;
      const deadline = this.now() + this.opts.renewDeadlineMs;
      let renewed = false;
      // An attempt cut off by its budget is the deadline: a timer can fire a few ms before the clock
      // reaches it (the event loop's cached time lags), and a retry then would send a request with
      // nothing left to wait for its answer.
      for (let out = false; !renewed && !out && !until.aborted && this.now() < deadline; ) {
        const result = await this.attempt(deadline - this.now());
        renewed = result === 'done';
        out = result === 'out-of-time';
        if (result === 'failed')
          await sleep(Math.min(this.opts.retryPeriodMs, Math.max(0, deadline - this.now())), until);
      }
      if (!renewed && !until.aborted) return 'lost';
    }
    return ended();
  }

  /**
   * One acquire-or-renew within `budgetMs`: its requests are aborted when the budget runs out, and a
   * response arriving later changes nothing here (a timed-out renewal does not count, and no further
   * request of the attempt is sent).
   */
  private async attempt(budgetMs: number): Promise<'done' | 'failed' | 'out-of-time'> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), Math.max(0, budgetMs));
    const expired = new Promise<'out-of-time'>((resolve) =>
      abort.signal.addEventListener('abort', () => resolve('out-of-time'), { once: true }),
    );
    try {
      const tried = this.tryAcquireOrRenew(abort.signal).then((ok): 'done' | 'failed' =>
        ok ? 'done' : 'failed',
      );
      return await Promise.race([tried, expired]);
    } finally {
      clearTimeout(timer);
      abort.abort();
    }
  }

  private async tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const stamp = microTimeNow();
    const req = { signal };
    try {
      if (this.leader && this.lease) {
        // Fast path: we hold it and know its resourceVersion (a stale one gets 409).
        try {
          const renewed = await this.client.replace(
            this.path,
            this.withSpec(this.lease, { renewTime: stamp }),
            req,
            parseLease,
          );
          if (signal.aborted) return false;
          this.lease = renewed;
          return this.renewed();
        } catch (err) {
          if (signal.aborted) return false;
          leaderElectionMetrics.slowpath.labels(this.opts.name).inc();
          this.log.warn('Lease fast-path renewal failed', { error: message(err) });
        }
      }
      const current = await this.client.get(this.path, parseLease, req);
      if (signal.aborted) return false;
      if (!current) {
        const created = await this.client.create(
          collectionPath(LEASES, this.opts.namespace),
          {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name: this.opts.name, namespace: this.opts.namespace },
            spec: this.freshSpec(stamp, 0),
          },
          req,
          parseLease,
        );
        if (signal.aborted) return false;
        this.lease = created;
        this.observe(created);
        return this.renewed();
      }
      this.observe(current);
      const spec = current.spec ?? {};
      const holder = spec.holderIdentity ?? '';
      const expired = this.now() > this.observed!.at + this.observed!.durationMs;
      if (holder && holder !== this.opts.identity && !expired) return false;
      const update =
        holder === this.opts.identity
          ? this.withSpec(current, { renewTime: stamp, leaseDurationSeconds: this.leaseSeconds() })
          : this.withSpec(current, this.freshSpec(stamp, (spec.leaseTransitions ?? 0) + 1));
      const written = await this.client.replace(this.path, update, req, parseLease);
      if (signal.aborted) return false;
      this.lease = written;
      this.observe(written);
      return this.renewed();
    } catch (err) {
      if (!signal.aborted && !isConflict(err)) this.log.warn('Lease update failed', { error: message(err) });
      return false;
    }
  }

  private renewed(): true {
    this.lastRenewAt = this.now();
    return true;
  }

  /** Records when this process saw the holder or renewTime change: expiry counts from that moment. */
  private observe(lease: Lease): void {
    const holder = lease.spec?.holderIdentity ?? '';
    const renewTime = lease.spec?.renewTime ?? '';
    if (this.observed?.holder === holder && this.observed.renewTime === renewTime) return;
    if (this.observed?.holder !== holder && holder) this.callbacks.onNewLeader?.(holder);
    const durationMs = (lease.spec?.leaseDurationSeconds ?? this.leaseSeconds()) * 1000;
    this.observed = { holder, renewTime, at: this.now(), durationMs };
  }

  private leaseSeconds(): number {
    return Math.max(1, Math.round(this.opts.leaseDurationMs / 1000));
  }

  private freshSpec(now: string, transitions: number) {
    return {
      holderIdentity: this.opts.identity,
      leaseDurationSeconds: this.leaseSeconds(),
      acquireTime: now,
      renewTime: now,
      leaseTransitions: transitions,
    };
  }

  private withSpec(lease: Lease, spec: Record<string, unknown>): Lease {
    return { ...lease, spec: { ...lease.spec, ...spec } };
  }

  /** client-go's release: an empty holder with a 1 s duration, so a candidate takes over at its next try. */
  private async release(): Promise<void> {
    if (!this.lease || this.lease.spec?.holderIdentity !== this.opts.identity) return;
    const now = microTimeNow();
    const { holderIdentity: _held, ...rest } = this.lease.spec;
    try {
      this.lease = await this.client.replace(
        this.path,
        { ...this.lease, spec: { ...rest, leaseDurationSeconds: 1, acquireTime: now, renewTime: now } },
        { signal: AbortSignal.timeout(this.opts.renewDeadlineMs) },
        parseLease,
      );
      this.log.info('Released leadership', { lease: this.opts.name, identity: this.opts.identity });
    } catch (err) {
      this.log.warn('Lease release failed; it expires by itself', { error: message(err) });
    }
  }
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** True when `p` settled within `ms`. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
