// The degenerate case of placement.md: identical contexts, identical hosts of C slots, fresh telemetry,
// keys never short. Every policy that checks feasibility blocks only when all hosts are full, a pooled
// loss system: ErlangB(A, N·C). Blind random splits the Poisson stream: ErlangB(A/N, C) per host.
import { expect } from 'chai';
import type { Instance } from '../src/model.ts';
import * as P from '../src/policies.ts';
import { simulate } from '../src/sim.ts';
import { erlangB, estimate } from '../src/stats.ts';
import { arrivalTrace } from '../src/trace.ts';

const HOSTS = 3;
const SLOTS = 8;
const HOLD = 300;
const SEEDS = [1, 2, 3, 4, 5, 6];

/** One app of 1 CPU on hosts of 8 CPUs: loadPerContext = 1/8 exactly (binary fractions, no rounding). */
function degenerate(maxLoad: number): Instance {
  return {
    hosts: Array.from({ length: HOSTS }, (_, i) => ({ name: `h${i}`, kmeId: `kme-h${i}`, capacity: SLOTS })),
    links: Array.from({ length: HOSTS }, (_, i) => ({
      name: `l${i}`,
      ends: ['kme-client', `kme-h${i}`] as [string, string],
      lengthKm: 10,
      secretKeyRate: 1e9,
    })),
    apps: [{ name: 'app', cpu: 1, keyRate: 1, maxLoad, minKeyAvailability: 0 }],
  };
}

function blocking(policy: P.Policy, instance: Instance, offered: number) {
  return estimate(
    SEEDS.map((seed) => {
      const trace = arrivalTrace(seed, 1, 3000, offered / HOLD, HOLD);
      const m = simulate({
        instance,
        trace,
        warmup: 300,
        policy,
        trigger: 'never',
        telemetryPeriodS: 0,
        seed,
      });
      return m.blocked / m.arrivals;
    }),
  );
}

describe('placement-lab against Erlang-B', () => {
  const offered = 0.8 * HOSTS * SLOTS;
  const pooled = erlangB(offered, HOSTS * SLOTS);
  const split = erlangB(offered / HOSTS, SLOTS);

  it('reproduces the Erlang-B table of placement.md', () => {
    expect(erlangB(0.8 * 30, 30)).to.be.closeTo(0.0401, 5e-5);
    expect(erlangB(0.9 * 10, 10)).to.be.closeTo(0.168, 5e-5);
    expect(erlangB(0.8 * 100, 100)).to.be.closeTo(0.004, 5e-5);
  });

  const pooledPolicies = [
    P.randomFeasible,
    P.leastLoaded,
    P.powerOfTwo,
    P.bestFit,
    P.shortestPathFirst,
    P.ours,
  ];
  for (const policy of pooledPolicies) {
    it(`${policy.name} blocks like the pooled system ErlangB(A, N·C)`, () => {
      const b = blocking(policy, degenerate(1), offered);
      expect(Math.abs(b.mean - pooled), `${b.mean} ± ${b.half} vs ${pooled}`).to.be.at.most(b.half);
      expect(Math.abs(b.mean - split)).to.be.greaterThan(3 * b.half);
    });
  }

  it('the seed, with its threshold one slot below full, blocks like the pooled system', () => {
    // The seed drops hosts whose load exceeds max without counting the new context: a max between
    // 7/8 and 8/8 admits exactly while a slot is free.
    const b = blocking(P.seedWeightedRandom, degenerate(1 - 1 / (2 * SLOTS)), offered);
    expect(Math.abs(b.mean - pooled), `${b.mean} ± ${b.half} vs ${pooled}`).to.be.at.most(b.half);
  });

  it('random-blind blocks like the split pool ErlangB(A/N, C)', () => {
    const b = blocking(P.randomBlind, degenerate(1), offered);
    expect(Math.abs(b.mean - split), `${b.mean} ± ${b.half} vs ${split}`).to.be.at.most(b.half);
    expect(Math.abs(b.mean - pooled)).to.be.greaterThan(3 * b.half);
  });
});
