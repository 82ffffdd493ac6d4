// The notification reconciler: observe the context, decide what it owes (decide.ts), deliver, record
// the delivery on the AppContext. Failures retry with jittered exponential backoff until the
// give-up time counted from the event itself, then a NotificationDelivered=False condition says so.
// The delivery record lives on the AppContext, so a restarted or new replica picks up where the
// last one stopped; only the Lease holder runs this (lcmp.ts), so each notification has one sender.
import type { Logger } from '@mecqkd/common/logger';
import type { AppContext, LocationConstraints } from '@mecqkd/crds';
import { APP_CONTEXTS } from '@mecqkd/crds/api-resources';
import { setCondition } from '@mecqkd/kube/conditions';
import { removeFinalizer } from '@mecqkd/kube/finalizers';
import type { KubeClient } from '@mecqkd/kube/kube-client';
import { isConflict, isNotFound } from '@mecqkd/kube/kube-errors';
import { objectPath } from '@mecqkd/kube/kube-paths';
import type { Cache, Reconciler } from '@mecqkd/kube/types';
import { lcmpMetrics } from '../metrics.ts';
import { KNOWN_LOCATIONS_ANNOTATION, LCMP_FINALIZER } from '../mx2/contexts.ts';
import type { KeyUse } from '../mx2/schemas.ts';
import { RefusedTarget, type SsrfPolicy } from '../ssrf.ts';
import { decide, NOTIFIED_ANNOTATION, retryDelayMs, type Work } from './decide.ts';
import { postNotification } from './deliver.ts';

export interface NotifierDeps {
  kube: KubeClient;
  contexts: Cache<AppContext>;
  /** Where the context's app can run now within its requested location, when it asked to be told. */
  availableFor: (ctx: AppContext) => LocationConstraints[] | undefined;
  /** The key use of the context's MecApp; undefined when the app is gone. */
  keyUseOf: (ctx: AppContext) => KeyUse | undefined;
  ssrf: SsrfPolicy;
  vendorId: string;
  timeoutMs: number;
  backoffMs: number;
  maxBackoffMs: number;
  giveUpMs: number;
  log: Logger;
  now?: () => number;
}

export const DELIVERED_CONDITION = 'NotificationDelivered';

type Deliver = Extract<Work, { kind: 'deliver' }>;

export function notificationReconciler(d: NotifierDeps): Reconciler {
  // attempts per pending event: pacing only (a restart starts the backoff afresh; correctness and the
  // give-up bound come from the AppContext)
  const attempts = new Map<string, number>();
  // events this process delivered whose record the cache does not show yet: not sent twice
  const recorded = new Map<string, string>();
  // when work with no time of its own (locations) was first seen, per context and record
  const firstSeen = new Map<string, { record: string | undefined; at: number }>();
  const now = d.now ?? Date.now;
  return async (key) => {
    const ctx = d.contexts.get(key);
    const work = ctx
      ? decide(ctx, d.vendorId, d.availableFor(ctx), d.keyUseOf(ctx))
      : ({ kind: 'none' } as const);
    if (!ctx || work.kind === 'none') {
      recorded.delete(key);
      firstSeen.delete(key);
      return undefined;
    }
    const path = objectPath(APP_CONTEXTS, ctx.metadata.namespace, ctx.metadata.name);
    if (work.kind === 'release') {
      await release(d, path, ctx);
      return undefined;
    }
    const seen = firstSeen.get(key);
    if (work.since === undefined && seen?.record !== work.record)
      firstSeen.set(key, { record: work.record, at: now() });
    const since = work.since ?? firstSeen.get(key)!.at;
    const attemptKey = `${key}@${work.what}@${work.record ?? since}`;
    if (recorded.get(key) === attemptKey) return undefined;
    if (now() - since > d.giveUpMs) {
      await abandon(
        d,
        ctx,
        path,
        work,
        'DeliveryAbandoned',
        `not acknowledged within ${d.giveUpMs / 1000} s`,
      );
      attempts.delete(attemptKey);
      recorded.set(key, attemptKey);
      return undefined;
    }
    try {
      for (const n of work.notifications) {
        const target = await d.ssrf.check(ctx.spec.callbackReference!);
        await postNotification(target, n.body, d.timeoutMs);
        lcmpMetrics.delivered.labels(n.type).inc();
        d.log.info('Delivered notification', { key, type: n.type, host: target.url.host });
      }
    } catch (err) {
      if (err instanceof RefusedTarget) {
        await abandon(d, ctx, path, work, 'CallbackRefused', `callbackReference ${err.message}`);
        recorded.set(key, attemptKey);
        return undefined;
      }
      const n = attempts.get(attemptKey) ?? 0;
      attempts.set(attemptKey, n + 1);
      for (const x of work.notifications) lcmpMetrics.retried.labels(x.type).inc();
      const delay = retryDelayMs(n, d.backoffMs, d.maxBackoffMs);
      d.log.warn('Notification failed, will retry', {
        key,
        what: work.what,
        attempt: n + 1,
        retryInMs: Math.round(delay),
        error: err instanceof Error ? err.message : String(err),
      });
      // come back for the give-up even when the next step would be later
      return { requeueAfterMs: Math.max(1, Math.min(delay, since + d.giveUpMs - now() + 1)) };
    }
    attempts.delete(attemptKey);
    await record(d, ctx, path, work);
    recorded.set(key, attemptKey);
    return undefined;
  };
}

/**
 * Drops the LCMP's finalizer, re-reading on a conflict (the operator removes its own at the same
 * time): a failed removal after a delivered deletion notice would send it again.
 */
async function release(d: NotifierDeps, path: string, ctx: AppContext): Promise<void> {
  let current: AppContext | undefined = ctx;
  for (let attempt = 0; current; attempt++) {
    try {
      await removeFinalizer(d.kube, path, current, LCMP_FINALIZER);
      return;
    } catch (err) {
      if (isNotFound(err)) return;
      if (!isConflict(err) || attempt >= 5) throw err;
      current = await d.kube.get<AppContext>(path);
    }
  }
}

async function record(d: NotifierDeps, ctx: AppContext, path: string, work: Deliver): Promise<void> {
  if (work.what === 'deletion') {
    await release(d, path, ctx);
    return;
  }
  const annotation = work.what === 'locations' ? KNOWN_LOCATIONS_ANNOTATION : NOTIFIED_ANNOTATION;
  await d.kube.patch(path, 'merge', { metadata: { annotations: { [annotation]: work.record } } });
}

async function abandon(
  d: NotifierDeps,
  ctx: AppContext,
  path: string,
  work: Deliver,
  reason: string,
  message: string,
): Promise<void> {
  for (const n of work.notifications) lcmpMetrics.abandoned.labels(n.type).inc();
  d.log.warn('Gave up on a notification', {
    key: `${ctx.metadata.namespace}/${ctx.metadata.name}`,
    what: work.what,
    reason,
  });
  const conditions = setCondition(ctx.status?.conditions ?? [], {
    type: DELIVERED_CONDITION,
    status: 'False',
    reason,
    message: `${work.notifications.map((n) => n.type).join(' and ')}: ${message}`,
    observedGeneration: ctx.metadata.generation ?? 0,
  });
  // with the resourceVersion: a concurrent operator write makes this a 409 and the reconcile retries
  const updated = await d.kube.patchStatus<AppContext>(path, 'merge', {
    metadata: { resourceVersion: ctx.metadata.resourceVersion },
    status: { conditions },
  });
  await record(d, updated, path, work);
}
