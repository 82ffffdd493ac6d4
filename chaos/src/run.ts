// One chaos run: the world, the workload, the schedule's waves of faults one after the other (each
// fault held and healed, the faults of a wave overlapping, and the time from the wave's last healing
// until the system is whole again measured), then the invariants over the
// whole history and the final state, a table per fault kind and a JSON report.

import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { AppContext, MecHost } from '@mecqkd/crds';
import { TESTBED_KEY_LIFETIME_SECONDS } from '@mecqkd/host-sae/testbed';
import { contexts, getJson, managedActions } from '../../operator/test/e2e/support.ts';
import {
  checkHistory,
  duplicateNotifications,
  type FaultRow,
  type FinalState,
  faultTable,
  formatTable,
  type HistoryEvent,
  type Migration,
  type MigrationTally,
  migrationTally,
  type Violation,
} from './history.ts';
import { aim, type Heal } from './injector.ts';
import { startLoadMover } from './load-mover.ts';
import { seededRng } from './rng.ts';
import { FAULT_KINDS, type FaultKind, keepInjecting, planWaves } from './schedule.ts';
import { startWorkload, type Workload } from './workload.ts';
import { type ChaosWorld, startChaosWorld } from './world.ts';

export interface ChaosOptions {
  seed: number;
  /** Every kind once (short) or random kinds for `minutes` (long). */
  profile: 'short' | 'long';
  minutes: number;
  /** The long profile goes on past its minutes (up to twice them) until it has injected this many. */
  minFaults?: number;
  dir: string;
  /** Where the JSON report goes. */
  reportDir: string;
  kinds?: readonly FaultKind[];
  log?: (line: string) => void;
}

export interface ChaosReport {
  seed: number;
  profile: string;
  faults: number;
  rows: FaultRow[];
  violations: Violation[];
  convergedAfterMs?: number;
  counts: { creates: number; deletes: number; invocations: number; correct: number; errors: number };
  duplicateNotifications: number;
  migrations: MigrationTally;
  /** Load surges the load mover raised. */
  surges: number;
  /** From the first wave until the last one was whole again. */
  faultPhaseMs: number;
  /** The machine's 1-minute load average after each wave (the machine is shared: recoveries slow down). */
  loadAverage: { min: number; median: number; max: number };
  table: string;
  reportFile: string;
  workload: Workload;
  world: ChaosWorld;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const STATE_INVARIANTS = new Set([
  'unplaced-without-reason',
  'infeasible-host',
  'orphan-action',
  'missing-action',
]);

const migrationsOf = (c: AppContext): Migration[] =>
  (c.status?.migrations ?? []).map((m) => ({ to: m.to, reason: m.reason, time: Date.parse(m.time) }));

/**
 * Every context's migrations, sampled while the run goes: the final state lacks the contexts deleted
 * meanwhile, and a status keeps only its last 20 moves.
 */
function trackMigrations(world: ChaosWorld) {
  const seen = new Map<string, Migration[]>();
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        for (const c of await contexts(world.tb)) {
          const known = seen.get(c.metadata.name) ?? [];
          const last = known.at(-1)?.time ?? -Infinity;
          seen.set(c.metadata.name, [...known, ...migrationsOf(c).filter((m) => m.time > last)]);
        }
      } catch {
        /* the apiserver is down */
      }
      await sleep(1000);
    }
  })();
  return {
    seen,
    async stop() {
      running = false;
      await loop;
    },
  };
}

export async function observe(world: ChaosWorld): Promise<FinalState> {
  const all = await contexts(world.tb);
  const hosts = (await getJson<{ items: MecHost[] }>(world.tb, 'mechosts')).items;
  const actions: Record<string, string[]> = {};
  for (const h of world.tb.hosts) actions[h.name] = await managedActions(world.tb, h.name);
  const actionOf: Record<string, string> = {};
  for (const c of all) {
    const action = c.status?.appInstanceId?.split('/')[1];
    if (action) actionOf[c.spec.appName] = action;
  }
  return {
    contexts: all.map((c) => ({
      id: c.metadata.name,
      app: c.spec.appName,
      phase: c.status?.phase,
      host: c.status?.host,
      reason: c.status?.conditions?.find((x) => x.type === 'Ready')?.reason,
      migrations: migrationsOf(c),
    })),
    actions,
    actionOf,
    feasibleHosts: hosts
      .filter((h) => h.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True'))
      .map((h) => h.metadata.name),
    keyLifetimeMs: TESTBED_KEY_LIFETIME_SECONDS * 1000,
  };
}

/** Time until the observed state keeps every state invariant (undefined: not within `limitMs`). */
async function convergence(world: ChaosWorld, limitMs: number) {
  const t0 = Date.now();
  while (Date.now() - t0 < limitMs) {
    try {
      const state = await observe(world);
      const broken = checkHistory([], state, 0, Date.now()).filter((v) => STATE_INVARIANTS.has(v.invariant));
      if (broken.length === 0) return Date.now() - t0;
    } catch {
      /* a part is still coming back */
    }
    await sleep(500);
  }
  return undefined;
}

export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const log = o.log ?? ((l: string) => console.log(l));
  // the schedule draws from a generator of its own, so the workload's timing cannot change it
  const rng = seededRng(o.seed);
  const planRng = seededRng(o.seed ^ 0x5eed);
  log(`chaos: seed ${o.seed}, ${o.profile} profile; starting the system in ${o.dir}`);
  const world = await startChaosWorld(o.dir);
  const tracker = trackMigrations(world);
  const workload = startWorkload(world, rng, {
    devices: 2,
    contextsPerDevice: 3,
    mx2PeriodMs: [300, 1500],
    invokePeriodMs: 150,
  });
  const history = workload.history;
  const load = startLoadMover(world, seededRng(o.seed ^ 0x10ad), history, {
    gapMs: o.profile === 'short' ? [5000, 10_000] : [20_000, 60_000],
    surgeMs: o.profile === 'short' ? [15_000, 20_000] : [15_000, 30_000],
  });
  const convergeMsByFault = new Map<number, number>();
  let lastWaveConvergedMs: number | undefined;
  let faultPhaseMs = 0;
  const loads: number[] = [loadavg()[0]!];
  try {
    const warm = await convergence(world, 120_000);
    log(`chaos: workload running, system whole after ${warm} ms`);
    const plan = planWaves(planRng, {
      kinds: o.kinds ?? FAULT_KINDS,
      hosts: world.tb.hosts.map((h) => h.name),
      // room for keepInjecting's extension
      durationMs: 2 * o.minutes * 60_000,
      // the short profile keeps `make test` short: one fault at a time; the long one overlaps three
      // to seven faults a wave, each held 1–4 s (a wave lasts as long as its slowest restart, 10–18 s
      // for a Node process at load 20), so that 20 minutes hold hundreds of faults
      ...(o.profile === 'short'
        ? { holdMs: [1500, 3000], gapMs: [1000, 2000], waveSize: [1, 1], staggerMs: 0 }
        : { holdMs: [1000, 4000], gapMs: [1000, 2500], waveSize: [3, 7], staggerMs: 2000 }),
      eachOnce: o.profile === 'short',
    });
    const started = Date.now();
    let injected = 0;
    for (const [i, wave] of plan.entries()) {
      const done = { elapsedMs: Date.now() - started, faults: injected };
      if (o.profile === 'long' && !keepInjecting(done, { minutes: o.minutes, minFaults: o.minFaults ?? 0 }))
        break;
      await sleep(wave.gapMs);
      const aimed = await Promise.all(wave.faults.map((f) => aim(world, f).catch((err: Error) => err)));
      const outcomes = await Promise.all(
        wave.faults.map(async (f, j) => {
          await sleep(f.offsetMs);
          const breakIt = aimed[j]!;
          let heal: Heal;
          try {
            if (breakIt instanceof Error) throw breakIt;
            heal = await breakIt();
          } catch (err) {
            log(`chaos: injecting ${f.kind} failed: ${(err as Error).message}`);
            return undefined;
          }
          // numbered in the order of their times: the fault table finds each one's recovery by it
          const index = injected++;
          history.push({ t: Date.now(), type: 'fault', kind: f.kind, phase: 'inject', host: f.host });
          await sleep(f.holdMs);
          const healed = await heal().then(
            () => true,
            (err: Error) => log(`chaos: healing ${f.kind} failed: ${err.message}`),
          );
          history.push({ t: Date.now(), type: 'fault', kind: f.kind, phase: 'heal', host: f.host });
          return healed ? index : undefined;
        }),
      );
      lastWaveConvergedMs = await convergence(world, 90_000);
      const ms = lastWaveConvergedMs;
      for (const index of outcomes)
        if (index !== undefined && ms !== undefined) convergeMsByFault.set(index, ms);
      loads.push(loadavg()[0]!);
      faultPhaseMs = Date.now() - started;
      const what = wave.faults.map((f) => `${f.kind} on ${f.host} +${f.offsetMs}/${f.holdMs} ms`).join(', ');
      log(
        `chaos: wave ${i + 1}/${plan.length} (${injected} faults so far): ${what}; whole again after ${ms ?? '—'} ms`,
      );
    }
  } finally {
    await Promise.all([load.stop(), workload.stop()]);
  }
  // from the last wave's healing until the system was whole again (the workload still running);
  // then the state the checker judges, once the workload has stopped and the system has settled
  // (the long profile stops injecting when its time is up, before the end of its plan)
  const convergedAfterMs = lastWaveConvergedMs;
  const settled = await convergence(world, 120_000);
  if (settled === undefined) log('chaos: the system did not settle after the workload stopped');
  await tracker.stop();
  for (const n of world.receiver.received) {
    // appInstanceId is <host>/<action>, on an AddressChange or an update's userAppInstanceInfo
    const info = n.body.userAppInstanceInfo as { appInstanceId?: unknown }[] | undefined;
    const instance = n.body.appInstanceId ?? info?.[0]?.appInstanceId;
    const host = typeof instance === 'string' ? instance.split('/')[0] : undefined;
    history.push({
      t: n.at,
      type: 'notification',
      contextId: String(n.body.contextId),
      notificationType: String(n.body.notificationType),
      ...(host ? { host } : {}),
    });
  }
  history.sort((a, b) => a.t - b.t);
  const final = await observe(world);
  const violations = checkHistory(history, final, convergedAfterMs, Date.now());
  const rows = faultTable(history, violations, convergeMsByFault);
  const invokes = history.filter((e) => e.type === 'invoke') as Extract<HistoryEvent, { type: 'invoke' }>[];
  const counts = {
    creates: history.filter((e) => e.type === 'create' && e.status === 201).length,
    deletes: history.filter((e) => e.type === 'delete' && e.status === 204).length,
    invocations: invokes.length,
    correct: invokes.filter((e) => e.outcome === 'correct').length,
    errors: invokes.filter((e) => e.outcome === 'error').length,
  };
  const table = formatTable(rows);
  mkdirSync(o.reportDir, { recursive: true });
  const reportFile = join(o.reportDir, `chaos-${o.profile}-${o.seed}.json`);
  const dup = duplicateNotifications(history, tracker.seen);
  const migrations = migrationTally(history, tracker.seen);
  const surges = history.filter((e) => e.type === 'load' && e.phase === 'raise').length;
  const sortedLoads = loads.sort((a, b) => a - b);
  const loadAverage = {
    min: sortedLoads[0]!,
    median: sortedLoads[Math.floor(sortedLoads.length / 2)]!,
    max: sortedLoads.at(-1)!,
  };
  writeFileSync(
    reportFile,
    `${JSON.stringify({ seed: o.seed, profile: o.profile, rows, violations, convergedAfterMs, counts, migrations, surges, faultPhaseMs, loadAverage, duplicateNotifications: dup, history }, null, 1)}\n`,
  );
  return {
    seed: o.seed,
    profile: o.profile,
    faults: rows.reduce((s, r) => s + r.injected, 0),
    rows,
    violations,
    convergedAfterMs,
    counts,
    duplicateNotifications: dup,
    migrations,
    surges,
    faultPhaseMs,
    loadAverage,
    table,
    reportFile,
    workload,
    world,
  };
}
