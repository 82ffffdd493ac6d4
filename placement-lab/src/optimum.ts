// Online policies against the offline optimum on small instances: same instance, same trace, from an
// empty system, fresh telemetry, no disturbances (the MILP has neither migration nor changing rates).
import { fluidCapacity, offlineOptimum } from './milp.ts';
import { generateInstance } from './model.ts';
import * as P from './policies.ts';
import { simulate } from './sim.ts';
import { arrivalTrace } from './trace.ts';

export const OPTIMUM_HOSTS = 3;
export const OPTIMUM_ARRIVALS = 80;
export const OPTIMUM_LOADS = [0.6, 0.8, 1.0];
export const OPTIMUM_SEEDS = [1, 2, 3, 4, 5];
export const OPTIMUM_POLICIES = [
  P.ours,
  P.seedWeightedRandom,
  P.randomFeasible,
  P.leastLoaded,
  P.bestFit,
  P.shortestPathFirst,
];

export interface OptimumRow {
  load: number;
  seed: number;
  optimum: number;
  arrivals: number;
  /** Admitted per policy name. */
  admitted: Record<string, number>;
}

export interface OptimumTask {
  load: number;
  seed: number;
}

export const optimumTasks = (): OptimumTask[] =>
  OPTIMUM_LOADS.flatMap((load) => OPTIMUM_SEEDS.map((seed) => ({ load, seed })));

export async function runOptimumTask({ load, seed }: OptimumTask): Promise<OptimumRow> {
  const instance = generateInstance(seed, OPTIMUM_HOSTS, 'direct');
  const capacity = await fluidCapacity(instance);
  const trace = arrivalTrace(seed, instance.apps.length, OPTIMUM_ARRIVALS, (load * capacity) / 300, 300);
  const opt = await offlineOptimum(instance, trace);
  const admitted: Record<string, number> = {};
  for (const policy of OPTIMUM_POLICIES) {
    const m = simulate({ instance, trace, warmup: 0, policy, trigger: 'never', telemetryPeriodS: 0, seed });
    admitted[policy.name] = m.arrivals - m.blocked;
  }
  return { load, seed, optimum: opt.admitted, arrivals: trace.length, admitted };
}
