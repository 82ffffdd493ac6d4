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
    }
  | { t: number; type: 'fault'; kind: FaultKind; phase: 'inject' | 'heal'; host: string };

export interface ObservedContext {
  id: string;
  app: string;
  phase?: string;
  host?: string;
  /** Reason of the Ready condition (Pending and Rejected contexts must carry one). */
  reason?: string;
  /** Hosts the context was ever observed on, in order (migrations). */
  hosts: string[];
}

export interface FinalState {
  contexts: ObservedContext[];
  /** Managed actions per host. */
  actions: Record<string, string[]>;
  /** Action name a context of an app needs on its host. */
  actionOf: Record<string, string>;
  /** Hosts a context may be placed on (Ready MecHosts). */
  feasibleHosts: string[];
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

  // a migration the device app was not told about: the context moved, no notification named it
  for (const c of final.contexts) {
    if (c.hosts.length < 2 || !live.has(c.id)) continue;
    const told = history.some(
      (e) =>
        e.type === 'notification' &&
        e.contextId === c.id &&
        e.notificationType === 'AddressChangeNotification',
    );
    if (!told) v('undelivered-migration', `${c.id} moved ${c.hosts.join(' → ')} without a notification`);
  }

  for (const e of history)
    if (e.type === 'invoke' && e.outcome === 'wrong')
      v('wrong-result', `${e.contextId} on ${e.host}: ${e.detail ?? 'wrong result'}`, e.t);

  if (convergedAfterMs === undefined) v('slow-convergence', 'the system did not converge');
  else if (convergedAfterMs > CONVERGENCE_TARGET_MS)
    v('slow-convergence', `converged ${Math.round(convergedAfterMs / 1000)} s after the last fault`);
  return out;
}

/** Notifications delivered more than once (same context, type and host), reported, not a violation. */
export function duplicateNotifications(history: HistoryEvent[]): number {
  const keys = history
    .filter((e) => e.type === 'notification')
    .map((e) => {
      const n = e as { contextId: string; notificationType: string; host?: string };
      return `${n.contextId}|${n.notificationType}|${n.host ?? ''}`;
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
