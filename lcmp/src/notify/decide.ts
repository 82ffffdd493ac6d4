// What a context owes its device app, derived from the AppContext (level-triggered) and, for
// location availability, from where the app can run now: the last migration record against the
// LCMP's delivery record says whether a move is still to be announced; a deletion the LCMP's
// finalizer still holds is one the system made, not the client; available locations the context's
// known-locations record lacks are to be announced. Pure.

import { canonicalJson } from '@mecqkd/common/canonical-json';
import type { AppContext, LocationConstraints } from '@mecqkd/crds';
import { hasFinalizer } from '@mecqkd/kube/finalizers';
import {
  instanceInfo,
  KNOWN_LOCATIONS_ANNOTATION,
  knownLocations,
  LCMP_FINALIZER,
  qkdExtension,
} from '../mx2/contexts.ts';
import type { KeyUse } from '../mx2/schemas.ts';

/** Time of the last migration announced (or given up on): the delivery record. */
export const NOTIFIED_ANNOTATION = 'mecqkd.io/lcmp-notified-migration';

export type NotificationType =
  | 'AddressChangeNotification'
  | 'ApplicationContextUpdateNotification'
  | 'ApplicationContextDeleteNotification'
  | 'ApplicationLocationAvailabilityNotification';

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
      what: 'migration' | 'deletion' | 'locations';
      /** Empty for a record to write without announcing anything (a location that went away). */
      notifications: Notification[];
      /**
       * When the event happened (ms): retries are bounded from here. Unknown for locations (a host
       * turning Ready or moving): the notifier counts from when it first saw the work.
       */
      since?: number;
      /** Recorded once delivered: the migration's time, or the known locations. */
      record?: string;
    };

/**
 * `available`: where the app can run now within the context's requested location, for a context
 * with appLocationUpdates (undefined otherwise).
 */
export function decide(
  ctx: AppContext,
  vendorId: string,
  available?: LocationConstraints[],
  /** The context's MecApp's, for the QKD extension; absent when the app is gone. */
  keyUse?: KeyUse,
): Work {
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
  if (!callback) return { kind: 'none' };
  return owedMigration(ctx, vendorId, keyUse) ?? owedLocations(ctx, available) ?? { kind: 'none' };
}

function owedMigration(ctx: AppContext, vendorId: string, keyUse?: KeyUse): Work | undefined {
  const contextId = ctx.metadata.name;
  const last = ctx.status?.migrations?.at(-1);
  // announce a move once it is complete: while Migrating the old host still serves
  if (!last || ctx.status?.phase !== 'Placed' || !ctx.status.referenceURI) return undefined;
  const notified = ctx.metadata.annotations?.[NOTIFIED_ANNOTATION];
  if (notified && Date.parse(notified) >= Date.parse(last.time)) return undefined;
  const instance = instanceInfo(ctx, vendorId, keyUse);
  const ext = qkdExtension(ctx, vendorId, keyUse);
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

/**
 * MEC 016 6.4.5, sent only to a context with appLocationUpdates: a requested location that became
 * available. What the device app knows is the record; a location gone from what is available is
 * dropped from the record without a word, so that its return counts as new.
 */
function owedLocations(ctx: AppContext, available: LocationConstraints[] | undefined): Work | undefined {
  if (!ctx.spec.appLocationUpdates || available === undefined || ctx.metadata.deletionTimestamp)
    return undefined;
  const raw = ctx.metadata.annotations?.[KNOWN_LOCATIONS_ANNOTATION];
  const record = knownLocations(available);
  if (raw === record) return undefined;
  let known: unknown[] = [];
  try {
    const parsed: unknown = JSON.parse(raw ?? '[]');
    known = Array.isArray(parsed) ? parsed : [];
  } catch {
    known = [];
  }
  const knownSet = new Set(known.map((l) => canonicalJson(l)));
  const fresh = available.some((l) => !knownSet.has(canonicalJson(l)));
  return {
    kind: 'deliver',
    what: 'locations',
    record,
    notifications: fresh
      ? [
          {
            type: 'ApplicationLocationAvailabilityNotification',
            body: {
              notificationType: 'ApplicationLocationAvailabilityNotification',
              contextId: ctx.metadata.name,
              availableLocations: available.map((appLocation) => ({ appLocation })),
            },
          },
        ]
      : [],
  };
}

/** Exponential backoff with full jitter in [½, 1½) of the step, capped. */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30)) * (0.5 + random());
}
