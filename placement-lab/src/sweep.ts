// The experiment: scenarios (hosts, key topology, telemetry, offered load), the policy/trigger pairs
// compared, and one run of one pair on one seed turned into a row of metrics.
import { DEFAULT_WEIGHTS } from '@mecqkd/operator/placement/score';
import type { ScoreWeights } from '@mecqkd/operator/placement/types';
import { generateInstance, type Instance, type Topology } from './model.ts';
import * as P from './policies.ts';
import { type SimConfig, simulate, type Trigger } from './sim.ts';
import { arrivalTrace, type DisturbanceModel } from './trace.ts';

export const MEAN_HOLDING_S = 300;
export const STALE_PERIOD_S = 30;
export const ARRIVALS = 2000;
export const WARMUP = 300;
/** A link loses 70% of its key rate for 5 min on average every 30 min (fibre stress, misalignment). */
export const DISTURBANCES: DisturbanceModel = { meanUpS: 1800, meanDownS: 300, factor: 0.3 };

export interface Scenario {
  hosts: number;
  topology: Topology;
  telemetry: 'fresh' | 'stale';
  load: number;
}

export interface Config {
  name: string;
  policy: P.Policy;
  trigger: Trigger;
  /** Our optimiser's options other than the operator's defaults. */
  optimiser?: SimConfig['optimiser'];
  /** Score weights other than the operator's defaults (placement and optimiser alike). */
  weights?: ScoreWeights;
}

const NONE: ScoreWeights = { load: 0, keyAvailability: 0, pathLength: 0, contexts: 0, keyHeadroom: 0 };
/** The operator's default weights before the key-headroom term. */
export const NO_HEADROOM: ScoreWeights = { ...DEFAULT_WEIGHTS, keyHeadroom: 0 };

export const CONFIGS: Config[] = [
  { name: 'random-blind', policy: P.randomBlind, trigger: 'never' },
  { name: 'random-feasible', policy: P.randomFeasible, trigger: 'never' },
  { name: 'seed', policy: P.seedWeightedRandom, trigger: 'seed' },
  { name: 'seed-static', policy: P.seedWeightedRandom, trigger: 'never' },
  { name: 'least-loaded', policy: P.leastLoaded, trigger: 'never' },
  { name: 'power-of-two', policy: P.powerOfTwo, trigger: 'never' },
  { name: 'best-fit', policy: P.bestFit, trigger: 'never' },
  { name: 'shortest-path-first', policy: P.shortestPathFirst, trigger: 'never' },
  { name: 'static', policy: P.ours, trigger: 'never' },
  { name: 'ours+seed-trigger', policy: P.ours, trigger: 'seed' },
  { name: 'ours', policy: P.ours, trigger: 'ours' },
  // the trade-offs: without the drain horizon (the availability rule alone), and one move per round
  { name: 'ours-no-horizon', policy: P.ours, trigger: 'ours', optimiser: { drainHorizonMs: 0 } },
  { name: 'ours-1-per-round', policy: P.ours, trigger: 'ours', optimiser: { maxMigrationsPerRound: 1 } },
  // what the key-headroom term of the score brings: the same without it
  {
    name: 'ours-no-headroom',
    policy: P.operatorPolicy('ours-no-headroom', NO_HEADROOM),
    trigger: 'ours',
    weights: NO_HEADROOM,
  },
];

/** Weight vectors for the operator's score, compared on one scenario. */
export const WEIGHTS: { name: string; weights: ScoreWeights }[] = [
  { name: 'default', weights: DEFAULT_WEIGHTS },
  { name: 'no headroom', weights: NO_HEADROOM },
  { name: 'load only', weights: { ...NONE, load: 1 } },
  { name: 'keys only', weights: { ...NONE, keyAvailability: 1 } },
  { name: 'headroom only', weights: { ...NONE, keyHeadroom: 1 } },
  { name: 'path only', weights: { ...NONE, pathLength: 1 } },
  { name: 'contexts only', weights: { ...NONE, contexts: 1 } },
  { name: 'path-heavy', weights: { ...DEFAULT_WEIGHTS, pathLength: 2 } },
];

export const LOADS = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
/** 20: a run sees a few migrations, and five seeds could not tell two policies' counts apart. */
export const SEEDS = Array.from({ length: 20 }, (_, i) => i + 1);

/** The scenario of the headline plot and table: 5 hosts, relayed key paths, telemetry every 30 s. */
export const HEADLINE: Omit<Scenario, 'load'> = { hosts: 5, topology: 'relayed', telemetry: 'stale' };

/**
 * The offered-load sweep on 5 hosts (both topologies, stale telemetry), and at load 0.8 every
 * combination of 3/5/10 hosts, direct/relayed and fresh/stale telemetry.
 */
export function scenarios(): Scenario[] {
  const out: Scenario[] = [];
  const key = (s: Scenario) => `${s.hosts}/${s.topology}/${s.telemetry}/${s.load}`;
  const add = (s: Scenario) => {
    if (!out.some((o) => key(o) === key(s))) out.push(s);
  };
  for (const topology of ['direct', 'relayed'] as const)
    for (const load of LOADS) add({ hosts: 5, topology, telemetry: 'stale', load });
  for (const hosts of [3, 5, 10])
    for (const topology of ['direct', 'relayed'] as const)
      for (const telemetry of ['fresh', 'stale'] as const) add({ hosts, topology, telemetry, load: 0.8 });
  return out;
}

export const WEIGHT_SCENARIO: Scenario = { ...HEADLINE, load: 0.8 };

export interface Row {
  hosts: number;
  topology: Topology;
  telemetry: 'fresh' | 'stale';
  load: number;
  policy: string;
  seed: number;
  blocking: number;
  misplaced: number;
  dropped: number;
  droppedPerHour: number;
  lost: number;
  migrationsPerHour: number;
  /** Migrations per 1000 admitted contexts. */
  migrationsPerKiloAdmitted: number;
  /** Share of migrations that left a path whose key buffer was already refilling. */
  refillingShare: number;
  /** Migrations per hour by trigger reason. */
  keysLowMigrationsPerHour: number;
  overloadMigrationsPerHour: number;
  /** Migrations per hour off a path that was in truth refilling (no drop to prevent). */
  refillingMigrationsPerHour: number;
  /** Migrations per hour off a draining path that would have recovered before running dry. */
  outlastedMigrationsPerHour: number;
  failedMigrationsPerHour: number;
  notificationsPerHour: number;
  deploysPerHour: number;
  keyKbps: number;
  jain: number;
  spread: number;
  overload: number;
  decisionUs: number;
}

export interface Task {
  scenario: Scenario;
  seed: number;
  /** Fluid capacity of the instance (contexts), from the LP; the offered load is a fraction of it. */
  capacity: number;
  /** Run these configs (by name) or, for the weight study, these weight vectors. */
  configs?: string[];
  weights?: string[];
}

export const instanceOf = (s: Scenario, seed: number): Instance =>
  generateInstance(seed, s.hosts, s.topology);

function row(task: Task, policy: string, m: ReturnType<typeof simulate>): Row {
  const perHour = (x: number) => x / m.hours;
  return {
    ...task.scenario,
    policy,
    seed: task.seed,
    blocking: m.blocked / m.arrivals,
    misplaced: m.misplaced / m.arrivals,
    dropped: m.dropped / m.arrivals,
    droppedPerHour: perHour(m.dropped),
    lost: (m.blocked + m.dropped) / m.arrivals,
    migrationsPerHour: perHour(m.migrations),
    migrationsPerKiloAdmitted: (1000 * m.migrations) / Math.max(1, m.arrivals - m.blocked),
    refillingShare: m.migrations ? m.migrationsFromRefilling / m.migrations : 0,
    keysLowMigrationsPerHour: perHour(m.migrationReasons.KeysLow ?? 0),
    overloadMigrationsPerHour: perHour(m.migrationReasons.HostOverloaded ?? 0),
    refillingMigrationsPerHour: perHour(m.migrationsFromRefilling),
    outlastedMigrationsPerHour: perHour(m.migrationsOutlasted),
    failedMigrationsPerHour: perHour(m.failedMigrations),
    notificationsPerHour: perHour(m.notifications),
    deploysPerHour: perHour(m.deploys),
    keyKbps: m.keyBits / (m.hours * 3600) / 1000,
    jain: m.jain,
    spread: m.spread,
    overload: m.overload,
    decisionUs: m.decisionNs / m.decisions / 1000,
  };
}

export function runTask(task: Task): Row[] {
  const { scenario, seed } = task;
  const instance = instanceOf(scenario, seed);
  const rate = (scenario.load * task.capacity) / MEAN_HOLDING_S;
  const trace = arrivalTrace(seed, instance.apps.length, ARRIVALS, rate, MEAN_HOLDING_S);
  const common = {
    instance,
    trace,
    warmup: WARMUP,
    telemetryPeriodS: scenario.telemetry === 'fresh' ? 0 : STALE_PERIOD_S,
    seed,
    disturbances: DISTURBANCES,
  };
  const rows: Row[] = [];
  for (const c of CONFIGS.filter((c) => task.configs?.includes(c.name) ?? !task.weights))
    rows.push(
      row(
        task,
        c.name,
        simulate({
          ...common,
          policy: c.policy,
          trigger: c.trigger,
          optimiser: c.optimiser,
          weights: c.weights,
        }),
      ),
    );
  for (const w of WEIGHTS.filter((w) => task.weights?.includes(w.name))) {
    const policy = P.operatorPolicy(w.name, w.weights);
    rows.push(row(task, `w:${w.name}`, simulate({ ...common, policy, trigger: 'ours', weights: w.weights })));
  }
  return rows;
}
