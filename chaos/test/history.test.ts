// The chaos run's judges on hand-made histories: each invariant fires on the history that breaks it
// and stays quiet on one that keeps it; the schedule is reproducible and never puts two faults of a
// wave on one part.
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
import { FAULT_KINDS, keepInjecting, partOf, planWaves } from '../src/schedule.ts';

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
    keyLifetimeMs: 60_000,
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
  it('finds invocations answered under a QKD key outside its window: past N, a sequence twice, after T', () => {
    const call = (
      t: number,
      seq: number,
      outcome: 'correct' | 'error' = 'correct',
      id = 'k1',
    ): HistoryEvent => ({
      t,
      type: 'invoke',
      contextId: 'a',
      host: 'host-1',
      outcome,
      key: { id, seq, start: t - 5, invocationsPerKey: 3 },
    });
    const judged = (calls: HistoryEvent[]) =>
      checkHistory([created('a'), ...calls], world([ctx('a')]), 1000, 100).map((v) => v.detail);
    expect(
      judged([call(10, 0), call(20, 1), call(30, 2), call(40, 2, 'error'), call(50, 0, 'correct', 'k2')]),
    ).to.deep.equal([]);
    expect(judged([call(10, 0), call(20, 3)])).to.deep.equal([
      "a on host-1: key k1 sequence 3 answered, past the key's 3 invocations",
    ]);
    expect(judged([call(10, 1), call(20, 1)])).to.deep.equal([
      'a on host-1: key k1 sequence 1 answered twice',
    ]);
    expect(judged([call(10, 0), call(60_010, 1)])).to.deep.equal([]);
    expect(judged([call(10, 0), call(70_000, 1)])).to.deep.equal([
      "a on host-1: key k1 sequence 1 answered 70 s after the key's first use",
    ]);
  });

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
    durationMs: 1_200_000,
    holdMs: [1000, 4000] as [number, number],
    gapMs: [1000, 2500] as [number, number],
    waveSize: [3, 6] as [number, number],
    staggerMs: 2000,
  };

  it('injects every kind once in the short profile, one per wave, the same for the same seed', () => {
    const plan = planWaves(seededRng(7), { ...opts, eachOnce: true });
    expect(plan.flatMap((w) => w.faults.map((f) => f.kind))).to.have.members([...FAULT_KINDS]);
    for (const w of plan) expect(w.faults).to.have.length(1);
    expect(planWaves(seededRng(7), { ...opts, eachOnce: true })).to.deep.equal(plan);
    expect(planWaves(seededRng(8), { ...opts, eachOnce: true })).to.not.deep.equal(plan);
  });

  it('fills the long profile with overlapping faults on parts of their own, every kind as often', () => {
    const plan = planWaves(seededRng(1), { ...opts, eachOnce: false });
    const faults = plan.flatMap((w) => w.faults);
    // 20 minutes of gaps and holds: hundreds of faults even before the recoveries stretch the run
    expect(faults.length).to.be.greaterThan(400);
    expect(
      plan.reduce((t, w) => t + w.gapMs + Math.max(...w.faults.map((f) => f.offsetMs + f.holdMs)), 0),
    ).to.be.at.most(opts.durationMs);
    for (const w of plan) {
      expect(w.faults.length).to.be.within(1, 6);
      expect(new Set(w.faults.map(partOf)).size, 'parts of a wave').to.equal(w.faults.length);
      for (const f of w.faults) {
        expect(f.holdMs).to.be.within(1000, 4000);
        expect(f.offsetMs).to.be.within(0, 2000);
      }
    }
    expect(plan.filter((w) => w.faults.length > 1).length, 'waves that overlap faults').to.be.greaterThan(
      plan.length / 2,
    );
    const perKind = FAULT_KINDS.map((k) => faults.filter((f) => f.kind === k).length);
    expect(Math.min(...perKind)).to.be.at.least(Math.max(...perKind) - 3);
    expect(planWaves(seededRng(1), { ...opts, eachOnce: false })).to.deep.equal(plan);
  });

  it('never puts two faults on one part in a wave', () => {
    expect(partOf({ kind: 'operator-kill', host: 'host-1' })).to.equal(
      partOf({ kind: 'operator-kill-follower', host: 'host-2' }),
    );
    expect(partOf({ kind: 'kme-pause', host: 'host-1' })).to.equal(
      partOf({ kind: 'qkd-link-cut', host: 'host-2' }),
    );
    expect(partOf({ kind: 'whisk-kill', host: 'host-1' })).to.equal(
      partOf({ kind: 'whisk-pause', host: 'host-1' }),
    );
    expect(partOf({ kind: 'whisk-kill', host: 'host-1' })).to.not.equal(
      partOf({ kind: 'whisk-kill', host: 'host-2' }),
    );
    // a single host leaves only one host-scoped fault of a kind per wave
    const plan = planWaves(seededRng(3), { ...opts, hosts: ['host-1'], waveSize: [4, 4], eachOnce: false });
    for (const w of plan) expect(new Set(w.faults.map(partOf)).size).to.equal(w.faults.length);
  });

  it('goes on past its minutes until the minimum of faults, but not past twice them', () => {
    const o = { minutes: 20, minFaults: 200 };
    const min = 60_000;
    expect(keepInjecting({ elapsedMs: 19 * min, faults: 500 }, o)).to.equal(true);
    expect(keepInjecting({ elapsedMs: 20 * min, faults: 200 }, o)).to.equal(false);
    expect(keepInjecting({ elapsedMs: 25 * min, faults: 199 }, o)).to.equal(true);
    expect(keepInjecting({ elapsedMs: 40 * min, faults: 10 }, o)).to.equal(false);
  });
});
