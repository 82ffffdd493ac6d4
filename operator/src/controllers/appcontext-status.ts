// AppContext status for each outcome of a reconcile. Pure: the reconciler decides, these spell it out.
import { jsonEqual } from '@mecqkd/common/canonical-json';
import type { AppContext, AppContextStatus, MigrationRecord } from '@mecqkd/crds';
import { removeCondition, setCondition } from '@mecqkd/kube/conditions';

export interface Placement {
  host: string;
  /** "namespace/name" of the host. */
  hostKey: string;
  action: string;
  referenceURI: string;
  hostKmeId: string;
  hostSaeId: string;
  keyPath: string[];
}

const MAX_MIGRATIONS_KEPT = 20;

function base(ctx: AppContext): AppContextStatus {
  return { ...(ctx.status ?? {}), observedGeneration: ctx.metadata.generation ?? 0 };
}

/**
 * Sets the Ready condition: it and the phase say all there is (Rejected is what not admitted meant).
 * An Admitted condition older operators wrote goes: every status write and watch event carried it.
 */
function withReady(
  ctx: AppContext,
  status: AppContextStatus,
  ready: { ok: boolean; reason: string; message: string },
  now: Date,
): AppContextStatus {
  const conditions = setCondition(
    removeCondition(status.conditions ?? [], 'Admitted'),
    {
      type: 'Ready',
      status: ready.ok ? 'True' : 'False',
      reason: ready.reason,
      message: ready.message,
      observedGeneration: ctx.metadata.generation ?? 0,
    },
    now,
  );
  return { ...status, conditions };
}

function readyReason(ctx: AppContext): string | undefined {
  return ctx.status?.conditions?.find((c) => c.type === 'Ready')?.reason;
}

function unplaced(status: AppContextStatus): AppContextStatus {
  const {
    host: _h,
    referenceURI: _r,
    appInstanceId: _a,
    hostKmeId: _k,
    hostSaeId: _s,
    keyPath: _p,
    ...rest
  } = status;
  return rest;
}

export function rejectedStatus(
  ctx: AppContext,
  reason: string,
  message: string,
  now: Date,
): AppContextStatus {
  const status = { ...unplaced(base(ctx)), phase: 'Rejected' as const };
  return withReady(ctx, status, { ok: false, reason, message }, now);
}

export function pendingStatus(ctx: AppContext, reason: string, message: string, now: Date): AppContextStatus {
  const status = { ...unplaced(base(ctx)), phase: 'Pending' as const };
  return withReady(ctx, status, { ok: false, reason, message }, now);
}

export function placedStatus(
  ctx: AppContext,
  p: Placement,
  now: Date,
  migration?: Omit<MigrationRecord, 'time'>,
): AppContextStatus {
  const moved = ctx.status?.host !== p.host || ctx.status?.appInstanceId !== `${p.host}/${p.action}`;
  const migrations = migration
    ? [...(ctx.status?.migrations ?? []), { ...migration, time: now.toISOString() }].slice(
        -MAX_MIGRATIONS_KEPT,
      )
    : ctx.status?.migrations;
  const status: AppContextStatus = {
    ...base(ctx),
    phase: 'Placed',
    host: p.host,
    referenceURI: p.referenceURI,
    appInstanceId: `${p.host}/${p.action}`,
    hostKmeId: p.hostKmeId,
    hostSaeId: p.hostSaeId,
    keyPath: p.keyPath,
    placedTime: moved || !ctx.status?.placedTime ? now.toISOString() : ctx.status.placedTime,
    ...(migrations ? { migrations } : {}),
  };
  const hops = p.keyPath.length - 1;
  return withReady(
    ctx,
    status,
    {
      ok: true,
      // a later reconcile of a migrated context keeps saying how it got there
      reason: migration || (!moved && readyReason(ctx) === 'Migrated') ? 'Migrated' : 'Placed',
      message: `served by ${p.host} (action ${p.action}); keys over ${hops} QKD hop${hops === 1 ? '' : 's'} ${p.keyPath.join(' → ')}`,
    },
    now,
  );
}

export function migratingStatus(
  ctx: AppContext,
  target: string,
  reason: string,
  now: Date,
): AppContextStatus {
  const status = { ...base(ctx), phase: 'Migrating' as const };
  return withReady(
    ctx,
    status,
    {
      ok: true,
      reason: 'Migrating',
      message: `moving from ${ctx.status?.host} to ${target} (${reason}); still served by ${ctx.status?.host}`,
    },
    now,
  );
}

/** Status equal but for nothing a reader would notice: no write needed. */
export function sameStatus(a: AppContextStatus | undefined, b: AppContextStatus): boolean {
  return jsonEqual(a ?? {}, b);
}

export const LOCATION_CONDITION = 'LocationMet';

/**
 * Says whether the host is in the location the device app asked for: False with why while no host
 * there fits; back to True once it is (a context that never missed its location gets no condition).
 */
export function locationStatus(
  ctx: AppContext,
  status: AppContextStatus,
  unmet: { reason: string; message: string } | undefined,
  now: Date,
): AppContextStatus {
  const had = status.conditions?.some((c) => c.type === LOCATION_CONDITION);
  if (!unmet && !had) return status;
  const conditions = setCondition(
    status.conditions ?? [],
    {
      type: LOCATION_CONDITION,
      status: unmet ? 'False' : 'True',
      reason: unmet?.reason ?? 'InRequestedLocation',
      message: unmet?.message ?? `served by ${status.host}, in the requested location`,
      observedGeneration: ctx.metadata.generation ?? 0,
    },
    now,
  );
  return { ...status, conditions };
}
