// What a context owes its device app, derived from the AppContext alone (level-triggered): the last
// migration record against the LCMP's delivery record says whether a move is still to be announced;
// a deletion the LCMP's finalizer still holds is one the system made, not the client. Pure.
import type { AppContext } from '@mecqkd/crds';
import { hasFinalizer } from '@mecqkd/kube/finalizers';
import { instanceInfo, LCMP_FINALIZER, qkdExtension } from '../mx2/contexts.ts';

/** Time of the last migration announced (or given up on): the delivery record. */
export const NOTIFIED_ANNOTATION = 'mecqkd.io/lcmp-notified-migration';

export type NotificationType =
  | 'AddressChangeNotification'
  | 'ApplicationContextUpdateNotification'
  | 'ApplicationContextDeleteNotification';

export interface Notification {
  type: NotificationType;
  body: Record<string, unknown>;
}

export type Work =
  | { kind: 'none' }
  /** Ending without anything to announce: drop the LCMP's finalizer. */
  | { kind: 'release' }
  | {
      kind: 'deliver';
      what: 'migration' | 'deletion';
      notifications: Notification[];
      /** When the event happened (ms): retries are bounded from here. */
      since: number;
      /** The migration's time, recorded once delivered. */
      record?: string;
    };

export function decide(ctx: AppContext, vendorId: string): Work {
  const contextId = ctx.metadata.name;
  const callback = ctx.spec.callbackReference;
  if (ctx.metadata.deletionTimestamp) {
    if (!hasFinalizer(ctx, LCMP_FINALIZER)) return { kind: 'none' };
    if (!callback) return { kind: 'release' };
    return {
      kind: 'deliver',
      what: 'deletion',
      since: Date.parse(ctx.metadata.deletionTimestamp),
      notifications: [
        {
          type: 'ApplicationContextDeleteNotification',
          body: { notificationType: 'ApplicationContextDeleteNotification', contextId },
        },
      ],
    };
  }
  const last = ctx.status?.migrations?.at(-1);
  // announce a move once it is complete: while Migrating the old host still serves
  if (!last || !callback || ctx.status?.phase !== 'Placed' || !ctx.status.referenceURI)
    return { kind: 'none' };
  const notified = ctx.metadata.annotations?.[NOTIFIED_ANNOTATION];
  if (notified && Date.parse(notified) >= Date.parse(last.time)) return { kind: 'none' };
  const instance = instanceInfo(ctx, vendorId);
  const ext = qkdExtension(ctx, vendorId);
  return {
    kind: 'deliver',
    what: 'migration',
    since: Date.parse(last.time),
    record: last.time,
    notifications: [
      {
        type: 'AddressChangeNotification',
        body: {
          notificationType: 'AddressChangeNotification',
          contextId,
          appInstanceId: instance.appInstanceId,
          referenceURI: instance.referenceURI,
          ...(ext ? { vendorSpecificExt: ext } : {}),
        },
      },
      {
        type: 'ApplicationContextUpdateNotification',
        body: {
          notificationType: 'ApplicationContextUpdateNotification',
          contextId,
          userAppInstanceInfo: [instance],
        },
      },
    ],
  };
}

/** Exponential backoff with full jitter in [½, 1½) of the step, capped. */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30)) * (0.5 + random());
}
