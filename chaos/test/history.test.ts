// The chaos run's judges on hand-made histories: each invariant fires on the history that breaks it
// and stays quiet on one that keeps it; the schedule is reproducible and never overlaps faults.
import { expect } from 'chai';
import {
  checkHistory,
  duplicateNotifications,
  type FinalState,
  faultTable,
  type HistoryEvent,
  migrationTally,
  type ObservedContext,
} from '../src/history.ts';
import { seededRng } from '../src/rng.ts';
import { FAULT_KINDS, planFaults } from '../src/schedule.ts';

const ctx = (id: string, over: Partial<ObservedContext> = {}): ObservedContext => ({
  id,
  app: 'cardio',
  phase: 'Placed',
  host: 'host-1',
  migrations: [],
  ...over,
});

const world = (contexts: ObservedContext[], actions: Record<string, string[]> = { 'host-1': ['cardio'] }) =>
  ({
    contexts,
    actions,
    actionOf: { cardio: 'cardio' },
    feasibleHosts: ['host-1', 'host-2'],
  }) satisfies FinalState;

const created = (id: string, t = 1): HistoryEvent => ({
  t,
  type: 'create',
  status: 201,
  contextId: id,
  app: 'cardio',
});
const invariants = (h: HistoryEvent[], s: FinalState, converged: number | undefined = 1000) =>
  checkHistory(h, s, converged, 100).map((v) => v.invariant);

describe('chaos history checker', () => {
  it('accepts a history whose end state keeps every invariant', () => {
    expect(invariants([created('a')], world([ctx('a')]))).to.deep.equal([]);
  });

  it('finds a context that got a 201 and vanished, and one that survived its 204', () => {
    const h = [created('a'), created('b'), { t: 2, type: 'delete', status: 204, contextId: 'b' } as const];
    expect(invariants(h, world([ctx('b')], { 'host-1': ['cardio'] }))).to.have.members([
      'lost-context',
      'resurrected-context',
    ]);
  });

  it('does not count a context whose DELETE went unanswered as lost', () => {
    const h = [created('a'), { t: 2, type: 'delete', status: 0, contextId: 'a' } as const];
    expect(invariants(h, world([], {}))).to.deep.equal([]);
    const refused = [created('a'), { t: 2, type: 'delete', status: 403, contextId: 'a' } as const];
    expect(invariants(refused, world([], {}))).to.deep.equal(['lost-context']);
  });

  it('finds a duplicate create, an unplaced context without a reason and an infeasible host', () => {
    const h = [created('a'), created('a', 2), created('b'), created('c')];
    const s = world([ctx('a'), ctx('b', { phase: 'Pending', host: undefined }), ctx('c', { host: 'gone' })]);
    expect(invariants(h, s)).to.have.members([
      'duplicate-context',
      'unplaced-without-reason',
      'infeasible-host',
    ]);
    expect(
      invariants([created('b')], world([ctx('b', { phase: 'Pending', reason: 'NoFeasibleHost' })], {})),
    ).to.deep.equal([]);
  });

  it('finds orphan and missing actions', () => {
    const s = world([ctx('a', { host: 'host-2' })], { 'host-1': ['cardio'] });
    expect(invariants([created('a')], s)).to.have.members(['orphan-action', 'missing-action']);
  });

  it('finds a migration without its notification, and counts duplicate notifications', () => {
    const move = { to: 'host-2', reason: 'HostOverloaded', time: 4000 };
    const moved = ctx('a', { host: 'host-2', migrations: [move] });
    const s = world([moved], { 'host-2': ['cardio'] });
    expect(invariants([created('a')], s)).to.deep.equal(['undelivered-migration']);
    const note = {
      t: 5000,
      type: 'notification',
      contextId: 'a',
      notificationType: 'AddressChangeNotification',
      host: 'host-2',
    } as const;
    expect(invariants([created('a'), note, note], s)).to.deep.equal([]);
    const moves = new Map([['a', [move]]]);
    expect(duplicateNotifications([created('a'), note, note], moves)).to.equal(1);
    // the same context moving to the same host again is a new event, not a duplicate
    const back = { to: 'host-2', reason: 'HostOverloaded', time: 9000 };
    const again = { ...note, t: 9500 };
    expect(duplicateNotifications([note, again], new Map([['a', [move, back]]]))).to.equal(0);
    // a notification naming the host it left, or one from before the move, announces nothing
    const stale = { ...note, host: 'host-1' };
    const early = { ...note, t: 1000 };
    expect(invariants([created('a'), stale, early], s)).to.deep.equal(['undelivered-migration']);
  });

  it('tallies migrations: announced, overtaken by the next move, or never announced', () => {
    const moves = [
      { to: 'host-2', reason: 'HostOverloaded', time: 1000 },
      { to: 'host-1', reason: 'HostNotReady', time: 3000 },
      { to: 'host-2', reason: 'HostOverloaded', time: 9000 },
    ];
    const note = (t: number, host: string): HistoryEvent => ({
      t,
      type: 'notification',
      contextId: 'a',
      notificationType: 'AddressChangeNotification',
      host,
    });
    // the first move announced only after the second: it counts for neither
    const h = [note(3500, 'host-2'), note(4000, 'host-1')];
    expect(migrationTally(h, new Map([['a', moves]]))).to.deep.equal({
      migrations: 3,
      byReason: { HostOverloaded: 2, HostNotReady: 1 },
      notified: 1,
      superseded: 1,
      unannounced: 1,
    });
  });

  it('finds wrong results and slow or absent convergence', () => {
    const wrong = { t: 3, type: 'invoke', contextId: 'a', host: 'host-1', outcome: 'wrong' } as const;
    const error = { t: 4, type: 'invoke', contextId: 'a', host: 'host-1', outcome: 'error' } as const;
    expect(invariants([created('a'), wrong, error], world([ctx('a')]))).to.deep.equal(['wrong-result']);
    expect(invariants([created('a')], world([ctx('a')]), 45_000)).to.deep.equal(['slow-convergence']);
    const never = checkHistory([created('a')], world([ctx('a')]), undefined, 100);
    expect(never.map((v) => v.invariant)).to.deep.equal(['slow-convergence']);
  });

  it('attributes violations to the fault whose window holds them', () => {
    const h: HistoryEvent[] = [
      { t: 10, type: 'fault', kind: 'redis-pause', phase: 'inject', host: 'host-1' },
      { t: 20, type: 'fault', kind: 'redis-pause', phase: 'heal', host: 'host-1' },
      { t: 30, type: 'fault', kind: 'lcmp-kill', phase: 'inject', host: 'host-1' },
      { t: 40, type: 'fault', kind: 'lcmp-kill', phase: 'heal', host: 'host-1' },
    ];
    const rows = faultTable(h, [{ invariant: 'wrong-result', detail: '', t: 35 }], new Map([[0, 1500]]));
    expect(rows).to.deep.equal([
      { kind: 'lcmp-kill', injected: 1, recovered: 0, violations: 1 },
      { kind: 'redis-pause', injected: 1, recovered: 1, convergeMs: 1500, violations: 0 },
    ]);
  });
});

describe('chaos fault schedule', () => {
  const opts = {
    kinds: FAULT_KINDS,
    hosts: ['host-1', 'host-2'],
    durationMs: 600_000,
    holdMs: [2000, 5000] as [number, number],
    gapMs: [3000, 6000] as [number, number],
  };

  it('injects every kind once in the short profile, without overlap, the same for the same seed', () => {
    const plan = planFaults(seededRng(7), { ...opts, eachOnce: true });
    expect(plan.map((p) => p.kind)).to.have.members([...FAULT_KINDS]);
    for (let i = 1; i < plan.length; i++)
      expect(plan[i]!.at).to.be.at.least(plan[i - 1]!.at + plan[i - 1]!.holdMs + 3000);
    expect(planFaults(seededRng(7), { ...opts, eachOnce: true })).to.deep.equal(plan);
    expect(planFaults(seededRng(8), { ...opts, eachOnce: true })).to.not.deep.equal(plan);
  });

  it('fills the long profile with faults that all end inside it', () => {
    const plan = planFaults(seededRng(1), { ...opts, eachOnce: false });
    expect(plan.length).to.be.greaterThan(40);
    for (const p of plan) expect(p.at + p.holdMs).to.be.at.most(opts.durationMs);
  });
});
