// Leader election on a coordination.k8s.io/v1 Lease with client-go's algorithm and defaults
// (tools/leaderelection): optimistic updates keyed on resourceVersion, expiry judged by the time this
// process observed the record change (not the record's timestamps, so clock skew does not matter),
// MicroTime stamps, and release on shutdown once the guarded work has finished.
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
  })
  .refine((o) => o.leaseDurationMs > o.renewDeadlineMs, 'leaseDurationMs must exceed renewDeadlineMs')
  .refine(
    (o) => o.renewDeadlineMs > JITTER * o.retryPeriodMs,
    'renewDeadlineMs must exceed 1.2 × retryPeriodMs',
  );

export interface LeaderCallbacks {
  /** Runs once leadership is acquired; `signal` aborts when it ends. Its promise is awaited before release. */
  onStartedLeading: (signal: AbortSignal) => void | Promise<void>;
  /** Leadership ended (lost or released). After a loss the process should exit, not linger as a follower. */
  onStoppedLeading?: () => void;
  onNewLeader?: (identity: string) => void;
}

export class LeaderElector {
  private readonly opts: z.output<typeof leaderElectionOptionsSchema>;
  private readonly path: string;
  private readonly log: Logger;
  private readonly stopping = new AbortController();
  private lease?: Lease;
  private observed?: { holder: string; renewTime: string; at: number; durationMs: number };
  private leader = false;
  private guarded?: Promise<void>;
  private running?: Promise<void>;
  private lastRenewAt = 0;

  constructor(
    private readonly client: KubeClient,
    options: z.input<typeof leaderElectionOptionsSchema>,
    private readonly callbacks: LeaderCallbacks,
    logger?: Logger,
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
      !this.leader || Date.now() - this.lastRenewAt <= this.opts.renewDeadlineMs + this.opts.retryPeriodMs
    );
  }

  /** Campaigns, leads until the lease is lost or stop() is called; resolves then. Call once. */
  run(): Promise<void> {
    this.running ??= this.campaign();
    return this.running;
  }

  /** Ends leadership: aborts the guarded work, waits for it, releases the Lease (if configured). */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
  }

  private async campaign(): Promise<void> {
    const signal = this.stopping.signal;
    if (!(await this.acquire())) return;
    this.leader = true;
    leaderElectionMetrics.masterStatus.labels(this.opts.name).set(1);
    this.log.info('Acquired leadership', { lease: this.opts.name, identity: this.opts.identity });
    const leading = new AbortController();
    this.guarded = Promise.resolve()
      .then(() => this.callbacks.onStartedLeading(leading.signal))
      .catch((err: unknown) => {
        this.log.error('Leader work failed', { error: err instanceof Error ? err.message : String(err) });
      });
    await this.renewLoop();
    this.leader = false;
    leaderElectionMetrics.masterStatus.labels(this.opts.name).set(0);
    leading.abort();
    if (signal.aborted && this.opts.releaseOnCancel) {
      // ReleaseOnCancel: the guarded work must be over before another replica may start it.
      await this.guarded;
      await this.release();
    } else if (!signal.aborted) {
      this.log.error('Lost leadership', { lease: this.opts.name, identity: this.opts.identity });
    }
    this.callbacks.onStoppedLeading?.();
  }

  private async acquire(): Promise<boolean> {
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      if (await this.tryAcquireOrRenew()) return true;
      await sleep(this.opts.retryPeriodMs * (1 + Math.random() * JITTER), signal);
    }
    return false;
  }

  /** Renews every retry period; returns when a renewal failed for renewDeadline, or on stop(). */
  private async renewLoop(): Promise<void> {
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      await sleep(this.opts.retryPeriodMs, signal);
      if (signal.aborted) return;
      const deadline = Date.now() + this.opts.renewDeadlineMs;
      let renewed = false;
      while (!renewed && Date.now() < deadline && !signal.aborted) {
        renewed = await withDeadline(this.tryAcquireOrRenew(), deadline - Date.now());
        if (!renewed)
          await sleep(Math.min(this.opts.retryPeriodMs, Math.max(0, deadline - Date.now())), signal);
      }
      if (!renewed && !signal.aborted) return;
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = microTimeNow();
    try {
      if (this.leader && this.lease) {
        // Fast path: we hold it and know its resourceVersion.
        try {
          this.lease = await this.client.replace(
            this.path,
            this.withSpec(this.lease, { renewTime: now }),
            {},
            parseLease,
          );
          return this.renewed();
        } catch (err) {
          leaderElectionMetrics.slowpath.labels(this.opts.name).inc();
          this.log.warn('Lease fast-path renewal failed', {
            error: err instanceof Error ? err.message : String(err),
          });
        }
      }
      const current = await this.client.get(this.path, parseLease);
      if (!current) {
        this.lease = await this.client.create(
          collectionPath(LEASES, this.opts.namespace),
          {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name: this.opts.name, namespace: this.opts.namespace },
            spec: this.freshSpec(now, 0),
          },
          {},
          parseLease,
        );
        this.observe(this.lease);
        return this.renewed();
      }
      this.observe(current);
      const spec = current.spec ?? {};
      const holder = spec.holderIdentity ?? '';
      const expired = Date.now() > this.observed!.at + this.observed!.durationMs;
      if (holder && holder !== this.opts.identity && !expired) return false;
      const update =
        holder === this.opts.identity
          ? this.withSpec(current, { renewTime: now, leaseDurationSeconds: this.leaseSeconds() })
          : this.withSpec(current, this.freshSpec(now, (spec.leaseTransitions ?? 0) + 1));
      this.lease = await this.client.replace(this.path, update, {}, parseLease);
      this.observe(this.lease);
      return this.renewed();
    } catch (err) {
      if (!isConflict(err)) {
        this.log.warn('Lease update failed', { error: err instanceof Error ? err.message : String(err) });
      }
      return false;
    }
  }

  private renewed(): true {
    this.lastRenewAt = Date.now();
    return true;
  }

  /** Records when this process saw the holder or renewTime change: expiry counts from that local time. */
  private observe(lease: Lease): void {
    const holder = lease.spec?.holderIdentity ?? '';
    const renewTime = lease.spec?.renewTime ?? '';
    if (this.observed?.holder === holder && this.observed.renewTime === renewTime) return;
    if (this.observed?.holder !== holder && holder) this.callbacks.onNewLeader?.(holder);
    const durationMs = (lease.spec?.leaseDurationSeconds ?? this.leaseSeconds()) * 1000;
    this.observed = { holder, renewTime, at: Date.now(), durationMs };
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
        {},
        parseLease,
      );
      this.log.info('Released leadership', { lease: this.opts.name, identity: this.opts.identity });
    } catch (err) {
      this.log.warn('Lease release failed; it expires by itself', {
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
}

/** The promise's result, or false once `ms` passed (the request keeps running, its result is ignored). */
async function withDeadline(p: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
