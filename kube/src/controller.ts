// A controller in controller-runtime's shape: informers map events to keys, a work queue de-duplicates
// and serialises them, N workers run a level-triggered reconciler and act on its result.
import { randomUUID } from 'node:crypto';
import { createLogger, type Logger } from '@mecqkd/common/logger';
import type { Informer } from './informer.ts';
import { isCancelled } from './kube-errors.ts';
import { objectKey } from './kube-paths.ts';
import { controllerMetrics } from './metrics.ts';
import type { KubeObject, ObjectKey, ReconcileResult, Reconciler } from './types.ts';
import { WorkQueue, type WorkQueueOptions } from './workqueue.ts';

export interface ControllerOptions<T extends KubeObject> {
  /** Lower-case kind, e.g. "appcontext": the `controller` metric label and the queue's `name`. */
  name: string;
  reconciler: Reconciler;
  /** The primary resource: each of its events enqueues the object's own key. */
  informer: Informer<T>;
  /** Concurrent reconciles (controller-runtime MaxConcurrentReconciles, default 1). */
  workers?: number;
  queue?: Omit<WorkQueueOptions, 'name'>;
  /**
   * Drop primary updates that change neither generation, deletion, finalizers, labels nor
   * annotations, i.e. status-only writes (controller-runtime's GenerationChangedPredicate, relaxed).
   */
  ignoreStatusOnlyUpdates?: boolean;
  /**
   * Enqueue a primary add or update only for an object this accepts (a delete always enqueues): for
   * reconcilers with nothing to do for most objects, the predicate the reconciler itself would apply.
   */
  filter?: (obj: T) => boolean;
  /** How long start() waits for the informers' first LIST (controller-runtime CacheSyncTimeout). */
  cacheSyncTimeoutMs?: number;
  logger?: Logger;
}

export type MapFunc<S> = (obj: S) => ObjectKey[];

const RESULTS = ['success', 'error', 'requeue', 'requeue_after'] as const;

export class Controller<T extends KubeObject> {
  readonly name: string;
  readonly queue: WorkQueue;
  private readonly log: Logger;
  private readonly informers: Informer<KubeObject>[] = [];
  /** Removes this controller's handlers: informers outlive it (a new controller per leadership term). */
  private readonly unsubscribe: (() => void)[] = [];
  private readonly workers: number;
  private running: Promise<void>[] = [];
  private active = 0;
  private started = false;

  constructor(private readonly opts: ControllerOptions<T>) {
    this.name = opts.name;
    this.workers = opts.workers ?? 1;
    if (!(Number.isInteger(this.workers) && this.workers >= 1)) {
      throw new Error(`controller ${opts.name}: workers must be a positive integer, got ${opts.workers}`);
    }
    this.log = opts.logger ?? createLogger(`controller/${opts.name}`);
    this.queue = new WorkQueue({ name: opts.name, ...opts.queue });
    const enqueue = (obj: T) => this.queue.add(objectKey(obj));
    const accepts = opts.filter ?? (() => true);
    this.subscribe(
      opts.informer,
      (obj) => accepts(obj) && enqueue(obj),
      (oldObj, newObj) => {
        if ((!opts.ignoreStatusOnlyUpdates || !statusOnly(oldObj, newObj)) && accepts(newObj))
          enqueue(newObj);
      },
      enqueue,
    );
    for (const result of RESULTS) controllerMetrics.reconcileTotal.labels(this.name, result).inc(0);
    controllerMetrics.reconcileErrors.labels(this.name).inc(0);
    controllerMetrics.maxConcurrentReconciles.labels(this.name).set(this.workers);
    controllerMetrics.activeWorkers.labels(this.name).set(0);
  }

  /**
   * Reconciles the keys `map` returns for every event of a secondary resource (both the old and new
   * object on update, so a moved reference wakes both owners). Call before start().
   */
  watches<S extends KubeObject>(informer: Informer<S>, map: MapFunc<S>): this {
    if (this.started) throw new Error(`controller ${this.name}: watches() after start()`);
    const enqueue = (obj: S) => {
      for (const key of map(obj)) this.queue.add(key);
    };
    this.subscribe(
      informer,
      enqueue,
      (oldObj, newObj) => {
        enqueue(oldObj);
        enqueue(newObj);
      },
      enqueue,
    );
    return this;
  }

  private subscribe<S extends KubeObject>(
    informer: Informer<S>,
    add: (obj: S) => void,
    update: (oldObj: S, newObj: S) => void,
    remove: (obj: S) => void,
  ): void {
    informer.on('add', add).on('update', update).on('delete', remove);
    this.unsubscribe.push(() => informer.off('add', add).off('update', update).off('delete', remove));
    this.informers.push(informer as unknown as Informer<KubeObject>);
  }

  /**
   * Waits until every watched informer has synced (the caller starts informers, which may be shared
   * between controllers), then starts the workers.
   */
  async start(): Promise<void> {
    if (this.started) throw new Error(`controller ${this.name} already started`);
    this.started = true;
    const timeout = this.opts.cacheSyncTimeoutMs ?? 120_000;
    await Promise.all(this.informers.map((i) => i.waitForSync(timeout)));
    this.log.info('Starting workers', { controller: this.name, workers: this.workers });
    for (let i = 0; i < this.workers; i++) this.running.push(this.worker());
  }

  /** Graceful: no new keys are taken, in-flight reconciles finish, then workers exit. */
  async stop(): Promise<void> {
    for (const off of this.unsubscribe.splice(0)) off();
    await this.queue.shutDownWithDrain();
    await Promise.all(this.running);
    this.running = [];
    this.log.info('Stopped workers', { controller: this.name });
  }

  private async worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.reconcileOne(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  private async reconcileOne(key: ObjectKey): Promise<void> {
    const reconcileID = randomUUID();
    const end = controllerMetrics.reconcileTime.labels(this.name).startTimer();
    controllerMetrics.activeWorkers.labels(this.name).set(++this.active);
    let result: ReconcileResult | undefined;
    let error: unknown;
    try {
      result = await this.opts.reconciler(key);
    } catch (err) {
      error = err;
    } finally {
      end();
      controllerMetrics.activeWorkers.labels(this.name).set(--this.active);
    }
    if (isCancelled(error)) {
      // the scope (a leadership term) ended mid-reconcile: the next leader does this key again
      controllerMetrics.reconcileTotal.labels(this.name, 'cancelled').inc();
      this.queue.addRateLimited(key);
      this.log.info('Reconcile cancelled', { controller: this.name, key, reconcileID });
    } else if (error !== undefined) {
      controllerMetrics.reconcileTotal.labels(this.name, 'error').inc();
      controllerMetrics.reconcileErrors.labels(this.name).inc();
      this.queue.addRateLimited(key);
      this.log.error('Reconciler error', {
        controller: this.name,
        key,
        reconcileID,
        retries: this.queue.numRequeues(key),
        error: error instanceof Error ? error.message : String(error),
      });
    } else if (result?.requeueAfterMs !== undefined && result.requeueAfterMs > 0) {
      controllerMetrics.reconcileTotal.labels(this.name, 'requeue_after').inc();
      this.queue.forget(key);
      this.queue.addAfter(key, result.requeueAfterMs);
    } else if (result?.requeue) {
      controllerMetrics.reconcileTotal.labels(this.name, 'requeue').inc();
      this.queue.addRateLimited(key);
    } else {
      controllerMetrics.reconcileTotal.labels(this.name, 'success').inc();
      this.queue.forget(key);
    }
    this.log.debug('Reconciled', { controller: this.name, key, reconcileID, result });
  }
}

function statusOnly(a: KubeObject, b: KubeObject): boolean {
  const m = a.metadata;
  const n = b.metadata;
  return (
    m.generation === n.generation &&
    m.deletionTimestamp === n.deletionTimestamp &&
    JSON.stringify(m.finalizers) === JSON.stringify(n.finalizers) &&
    JSON.stringify(m.labels) === JSON.stringify(n.labels) &&
    JSON.stringify(m.annotations) === JSON.stringify(n.annotations)
  );
}
