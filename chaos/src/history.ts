// What a chaos run saw (every Mx2 answer, notification, invocation and fault), and the invariants
// of issue 16 checked over it and over the state observed once the faults have stopped. Pure: the
// harness records, these functions judge.
import type { FaultKind } from './schedule.ts';

export type HistoryEvent =
  | { t: number; type: 'create'; status: number; contextId?: string; app: string }
  | { t: number; type: 'update'; status: number; contextId: string }
  | { t: number; type: 'delete'; status: number; contextId: string }
  | { t: number; type: 'notification'; contextId: string; notificationType: string; host?: string }
  | {
      t: number;
      type: 'invoke';
      contextId: string;
      host: string;
      /** The result was opened and checked against the expected one. */
      outcome: 'correct' | 'wrong' | 'error';
      detail?: string;
      /** The QKD key and sequence number it was sealed under, when it was sent, and the key's N. */
      key?: { id: string; seq: number; start: number; invocationsPerKey: number };
    }
  | { t: number; type: 'fault'; kind: FaultKind; phase: 'inject' | 'heal'; host: string }
  /** Another tenant's load on a host raised or lowered (load-mover.ts). */
  | { t: number; type: 'load'; host: string; phase: 'raise' | 'lower' };

/** One move of a context between hosts, from its status' migration history. */
export interface Migration {
  to: string;
  reason: string;
  /** epoch ms */
  time: number;
}

export interface ObservedContext {
  id: string;
  app: string;
  phase?: string;
  host?: string;
  /** Reason of the Ready condition (Pending and Rejected contexts must carry one). */
  reason?: string;
  /** Its migrations, oldest first. */
  migrations: Migration[];
}

export interface FinalState {
  contexts: ObservedContext[];
  /** Managed actions per host. */
  actions: Record<string, string[]>;
  /** Action name a context of an app needs on its host. */
  actionOf: Record<string, string>;
  /** Hosts a context may be placed on (Ready MecHosts). */
  feasibleHosts: string[];
  /** How long a host SAE may use a QKD key after fetching it (its T). */
  keyLifetimeMs: number;
}

export type Invariant =
  | 'lost-context'
  | 'resurrected-context'
  | 'duplicate-context'
  | 'unplaced-without-reason'
  | 'infeasible-host'
  | 'orphan-action'
  | 'missing-action'
  | 'undelivered-migration'
  | 'wrong-result'
  | 'key-outside-window'
  | 'slow-convergence';

export interface Violation {
  invariant: Invariant;
  detail: string;
  /** When it happened, for the per-fault table (end-state violations carry the check's time). */
  t: number;
}

export const CONVERGENCE_TARGET_MS = 30_000;

/**
 * The contexts the device apps were promised (201) and not yet told were deleted (204). A DELETE
 * whose answer never came (or was a 5xx) may have taken effect: its context is neither promised
 * alive nor known deleted.
 */
export function promisedContexts(history: HistoryEvent[]): { live: Set<string>; deleted: Set<string> } {
  const live = new Set<string>();
  const deleted = new Set<string>();
  for (const e of history) {
    if (e.type === 'create' && e.status === 201 && e.contextId) live.add(e.contextId);
    if (e.type !== 'delete') continue;
    if (e.status === 204) deleted.add(e.contextId);
    if (e.status === 204 || e.status === 0 || e.status >= 500) live.delete(e.contextId);
  }
  return { live, deleted };
}

export function checkHistory(
  history: HistoryEvent[],
  final: FinalState,
  convergedAfterMs: number | undefined,
  now: number,
): Violation[] {
  const out: Violation[] = [];
  const v = (invariant: Invariant, detail: string, t = now) => out.push({ invariant, detail, t });

  const created = history.filter((e) => e.type === 'create' && e.status === 201 && e.contextId);
  const seen = new Set<string>();
  for (const e of created) {
    const id = (e as { contextId: string }).contextId;
    if (seen.has(id)) v('duplicate-context', `${id} was created twice`, e.t);
    seen.add(id);
  }
  const { live, deleted } = promisedContexts(history);
  const observed = new Map(final.contexts.map((c) => [c.id, c]));
  for (const id of live)
    if (!observed.has(id)) v('lost-context', `${id} got a 201 and no DELETE, but is gone`);
  for (const id of deleted)
    if (observed.has(id) && !live.has(id)) v('resurrected-context', `${id} got a 204 but still exists`);

  const feasible = new Set(final.feasibleHosts);
  for (const c of final.contexts) {
    if (c.phase === 'Placed') {
      if (!c.host || !feasible.has(c.host))
        v('infeasible-host', `${c.id} is Placed on ${c.host ?? 'no host'}`);
    } else if (!(c.phase === 'Pending' || c.phase === 'Rejected') || !c.reason)
      v('unplaced-without-reason', `${c.id} is ${c.phase ?? 'without phase'} (reason ${c.reason ?? 'none'})`);
  }

  const hosts = new Set([...Object.keys(final.actions), ...final.feasibleHosts]);
  for (const h of hosts) {
    const need = new Set(
      final.contexts
        .filter((c) => c.phase === 'Placed' && c.host === h)
        .map((c) => final.actionOf[c.app] ?? c.app),
    );
    const have = new Set(final.actions[h] ?? []);
    for (const a of have) if (!need.has(a)) v('orphan-action', `${a} on ${h} serves no placed context`);
    for (const a of need) if (!have.has(a)) v('missing-action', `${a} is needed on ${h} but absent`);
  }

  // a move the device app was not told about: the last migration of a live context must have been
  // announced with its new host (an earlier move a later one overtook before delivery need not be:
  // the device app needs to know where its context is now)
  for (const c of final.contexts) {
    const last = c.migrations.at(-1);
    if (!last || !live.has(c.id)) continue;
    if (!announced(history, c.id, last))
      v('undelivered-migration', `${c.id} moved to ${last.to} (${last.reason}) without a notification`);
  }

  for (const e of history)
    if (e.type === 'invoke' && e.outcome === 'wrong')
      v('wrong-result', `${e.contextId} on ${e.host}: ${e.detail ?? 'wrong result'}`, e.t);

  for (const x of keysOutsideWindow(history, final.keyLifetimeMs)) v('key-outside-window', x.detail, x.t);

  if (convergedAfterMs === undefined) v('slow-convergence', 'the system did not converge');
  else if (convergedAfterMs > CONVERGENCE_TARGET_MS)
    v('slow-convergence', `converged ${Math.round(convergedAfterMs / 1000)} s after the last fault`);
  return out;
}

/**
 * Invocations that succeeded under a QKD key outside its window: a sequence number past the key's N,
 * one sequence number answered twice (an accepted replay), or a use later than T after the key's
 * first answered use. The host SAE starts T when it fetches the key, which is after the first use
 * was sent and before it was answered, so a use sent T after that answer is surely outside.
 */
export function keysOutsideWindow(
  history: HistoryEvent[],
  keyLifetimeMs: number,
): { detail: string; t: number }[] {
  const out: { detail: string; t: number }[] = [];
  const firstAnswered = new Map<string, number>();
  const used = new Set<string>();
  for (const e of history) {
    if (e.type !== 'invoke' || e.outcome === 'error' || !e.key) continue;
    const { id, seq, start, invocationsPerKey } = e.key;
    const where = `${e.contextId} on ${e.host}: key ${id} sequence ${seq}`;
    if (seq < 0 || seq >= invocationsPerKey)
      out.push({ detail: `${where} answered, past the key's ${invocationsPerKey} invocations`, t: e.t });
    if (used.has(`${id}/${seq}`)) out.push({ detail: `${where} answered twice`, t: e.t });
    used.add(`${id}/${seq}`);
    const first = firstAnswered.get(id);
    if (first === undefined) firstAnswered.set(id, e.t);
    else if (start - first > keyLifetimeMs)
      out.push({
        detail: `${where} answered ${Math.round((start - first) / 1000)} s after the key's first use`,
        t: e.t,
      });
  }
  return out;
}

/** An AddressChangeNotification naming the migration's new host arrived after the move. */
function announced(history: HistoryEvent[], contextId: string, m: Migration, before = Infinity): boolean {
  // the recorded time has whole seconds
  return history.some(
    (e) =>
      e.type === 'notification' &&
      e.contextId === contextId &&
      e.notificationType === 'AddressChangeNotification' &&
      e.host === m.to &&
      e.t >= m.time - 1000 &&
      e.t < before,
  );
}

export interface MigrationTally {
  migrations: number;
  byReason: Record<string, number>;
  /** Announced to the device app with the new host. */
  notified: number;
  /** Overtaken by the context's next move before it was announced. */
  superseded: number;
  /** Never announced: the context was deleted first, or it is the checker's undelivered-migration. */
  unannounced: number;
}

/** Every migration seen during the run (deleted contexts' too), and what the device apps were told. */
export function migrationTally(
  history: HistoryEvent[],
  migrations: Map<string, Migration[]>,
): MigrationTally {
  const out: MigrationTally = { migrations: 0, byReason: {}, notified: 0, superseded: 0, unannounced: 0 };
  for (const [id, ms] of migrations)
    ms.forEach((m, i) => {
      out.migrations++;
      out.byReason[m.reason] = (out.byReason[m.reason] ?? 0) + 1;
      const next = ms[i + 1];
      if (announced(history, id, m, next?.time ?? Infinity)) out.notified++;
      else if (next) out.superseded++;
      else out.unannounced++;
    });
  return out;
}

/**
 * Notifications delivered more than once, reported, not a violation: the same type for the same
 * context and the same event (a migration is told apart by its time and new host; a deletion is one).
 */
export function duplicateNotifications(
  history: HistoryEvent[],
  migrations: Map<string, Migration[]>,
): number {
  const keys = history
    .filter((e) => e.type === 'notification')
    .map((e) => {
      const n = e as Extract<HistoryEvent, { type: 'notification' }>;
      const move = (migrations.get(n.contextId) ?? []).findLast(
        (m) => m.to === n.host && m.time - 1000 <= n.t,
      );
      return `${n.contextId}|${n.notificationType}|${n.host ?? ''}|${move?.time ?? ''}`;
    });
  return keys.length - new Set(keys).size;
}

export interface FaultRow {
  kind: FaultKind;
  injected: number;
  recovered: number;
  /** Longest time from a fault's healing until the system was whole again, ms. */
  convergeMs?: number;
  violations: number;
}

/**
 * One row per fault kind. A violation counts against the fault whose window (injection until the
 * next fault's injection) contains it; end-state violations against the last fault.
 */
export function faultTable(
  history: HistoryEvent[],
  violations: Violation[],
  convergeMsByFault: Map<number, number>,
): FaultRow[] {
  const faults = history.filter((e) => e.type === 'fault') as Extract<HistoryEvent, { type: 'fault' }>[];
  const injections = faults.filter((f) => f.phase === 'inject');
  const rows = new Map<FaultKind, FaultRow>();
  const row = (kind: FaultKind) => {
    let r = rows.get(kind);
    if (!r) {
      r = { kind, injected: 0, recovered: 0, violations: 0 };
      rows.set(kind, r);
    }
    return r;
  };
  injections.forEach((f, i) => {
    const r = row(f.kind);
    r.injected++;
    const converge = convergeMsByFault.get(i);
    if (converge !== undefined) {
      r.recovered++;
      r.convergeMs = Math.max(r.convergeMs ?? 0, converge);
    }
  });
  for (const x of violations) {
    const during = [...injections].reverse().find((f) => f.t <= x.t) ?? injections[injections.length - 1];
    if (during) row(during.kind).violations++;
  }
  return [...rows.values()].sort((a, b) => a.kind.localeCompare(b.kind));
}

export function formatTable(rows: FaultRow[]): string {
  const head = ['fault', 'injected', 'recovered', 'converge s (max)', 'violations'];
  const lines = rows.map((r) => [
    r.kind,
    String(r.injected),
    String(r.recovered),
    r.convergeMs === undefined ? '—' : (r.convergeMs / 1000).toFixed(1),
    String(r.violations),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [fmt(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(fmt)].join('\n');
}
