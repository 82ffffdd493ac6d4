// Kubernetes Events (events.k8s.io/v1) with client-go's guards against floods: repeats of the same
// event within the series window become one Event whose series.count is patched at most once per
// flush interval, and each object gets a token bucket of new Events (burst 25, one per 5 min).
import { randomBytes } from 'node:crypto';
import { createLogger, type Logger } from '@mecqkd/common/logger';
import type { KubeClient } from './kube-client.ts';
import { collectionPath, objectKey, objectPath, type ResourceType } from './kube-paths.ts';
import { eventMetrics } from './metrics.ts';
import { microTimeNow } from './microtime.ts';
import { TokenBucket } from './token-bucket.ts';
import type { KubeObject } from './types.ts';

const EVENTS: ResourceType = { group: 'events.k8s.io', version: 'v1', plural: 'events' };
/** events.k8s.io: isomorphic events closer than this form a series. */
const SERIES_WINDOW_MS = 6 * 60_000;
const MAX_NOTE = 1024;

export interface EventSpec {
  type: 'Normal' | 'Warning';
  /** CamelCase why, e.g. "Migrated". */
  reason: string;
  /** CamelCase what was done, e.g. "Migrate". */
  action: string;
  note?: string;
}

export interface EventRecorderOptions {
  client: KubeClient;
  /** e.g. "mecqkd.io/operator". */
  reportingController: string;
  /** This replica, e.g. the pod name. */
  reportingInstance: string;
  seriesFlushMs?: number;
  /** Per-object bucket of new Events. */
  spamBurst?: number;
  spamQps?: number;
  /** Bounds memory: the oldest tracked series are forgotten beyond this. */
  maxTracked?: number;
  logger?: Logger;
}

interface Series {
  name: string;
  namespace: string;
  firstAt: number;
  count: number;
  written: number;
  timer?: NodeJS.Timeout;
  created: Promise<boolean>;
}

export class EventRecorder {
  private readonly series = new Map<string, Series>();
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly log: Logger;

  constructor(private readonly opts: EventRecorderOptions) {
    this.log = opts.logger ?? createLogger('events');
  }

  /** Fire and forget: failures are logged, never thrown into the reconcile that reported. */
  record(regarding: KubeObject, spec: EventSpec): void {
    const objectId = regarding.metadata.uid ?? objectKey(regarding);
    const note = (spec.note ?? '').slice(0, MAX_NOTE);
    const key = [objectId, spec.type, spec.reason, spec.action, note].join('\u0000');
    const now = Date.now();
    const existing = this.series.get(key);
    if (existing && now - existing.firstAt < SERIES_WINDOW_MS) {
      existing.count++;
      this.scheduleSeriesPatch(existing);
      return;
    }
    if (!this.bucket(objectId).tryTake()) {
      eventMetrics.dropped.labels(this.opts.reportingController).inc();
      return;
    }
    const namespace = regarding.metadata.namespace ?? 'default';
    const name = `${regarding.metadata.name}.${randomBytes(8).toString('hex')}`;
    const created = this.track(this.create(regarding, namespace, name, spec, note));
    this.remember(key, { name, namespace, firstAt: now, count: 1, written: 1, created });
  }

  /** Waits for every write in flight and writes pending series counts now. */
  async flush(): Promise<void> {
    for (const s of this.series.values()) {
      if (s.timer) {
        clearTimeout(s.timer);
        s.timer = undefined;
        this.track(this.patchSeries(s));
      }
    }
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  private bucket(objectId: string): TokenBucket {
    let b = this.buckets.get(objectId);
    if (!b) {
      b = new TokenBucket({ qps: this.opts.spamQps ?? 1 / 300, burst: this.opts.spamBurst ?? 25 });
      this.buckets.set(objectId, b);
      if (this.buckets.size > (this.opts.maxTracked ?? 4096)) {
        this.buckets.delete(this.buckets.keys().next().value!);
      }
    }
    return b;
  }

  private remember(key: string, s: Series): void {
    const old = this.series.get(key);
    if (old?.timer) clearTimeout(old.timer);
    this.series.delete(key);
    this.series.set(key, s);
    if (this.series.size > (this.opts.maxTracked ?? 4096)) {
      const [oldestKey, oldest] = this.series.entries().next().value!;
      if (oldest.timer) clearTimeout(oldest.timer);
      this.series.delete(oldestKey);
    }
  }

  private scheduleSeriesPatch(s: Series): void {
    if (s.timer) return;
    s.timer = setTimeout(() => {
      s.timer = undefined;
      this.track(this.patchSeries(s));
    }, this.opts.seriesFlushMs ?? 10_000);
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
    return p;
  }

  private async create(
    regarding: KubeObject,
    namespace: string,
    name: string,
    spec: EventSpec,
    note: string,
  ): Promise<boolean> {
    const m = regarding.metadata;
    try {
      await this.opts.client.create(collectionPath(EVENTS, namespace), {
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: { name, namespace },
        eventTime: microTimeNow(),
        reportingController: this.opts.reportingController,
        reportingInstance: this.opts.reportingInstance,
        action: spec.action,
        reason: spec.reason,
        type: spec.type,
        note,
        regarding: {
          apiVersion: regarding.apiVersion,
          kind: regarding.kind,
          name: m.name,
          namespace: m.namespace,
          uid: m.uid,
          resourceVersion: m.resourceVersion,
        },
      });
      return true;
    } catch (err) {
      this.log.warn('Event not recorded', {
        key: objectKey(regarding),
        reason: spec.reason,
        error: err instanceof Error ? err.message : String(err),
      });
      return false;
    }
  }

  private async patchSeries(s: Series): Promise<void> {
    if (!(await s.created) || s.count === s.written) return;
    const count = s.count;
    try {
      await this.opts.client.patch(objectPath(EVENTS, s.namespace, s.name), 'merge', {
        series: { count, lastObservedTime: microTimeNow() },
      });
      s.written = count;
    } catch (err) {
      this.log.warn('Event series not updated', {
        event: s.name,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
}
