// The offline optimum is what enumeration finds on instances small enough to enumerate every
// assignment (reject or one of H hosts per arrival), and its assignment respects every constraint.

import { seededRng } from '@mecqkd/operator/placement/rng';
import { expect } from 'chai';
import { hostPaths, offlineOptimum } from '../src/milp.ts';
import { CLIENT_KME, type Instance, uniform } from '../src/model.ts';
import type { Arrival } from '../src/trace.ts';

/** Two hosts behind a shared relay hop, tight CPU and key rate, so both constraints bind. */
function tinyInstance(seed: number): { instance: Instance; trace: Arrival[] } {
  const rng = seededRng(seed);
  const instance: Instance = {
    hosts: [
      { name: 'h0', kmeId: 'kme-h0', capacity: uniform(rng, 1, 2.5) },
      { name: 'h1', kmeId: 'kme-h1', capacity: uniform(rng, 1, 2.5) },
    ],
    links: [
      { name: 'c-r', ends: [CLIENT_KME, 'kme-r'], lengthKm: 0, secretKeyRate: uniform(rng, 4000, 12000) },
      { name: 'c-h0', ends: [CLIENT_KME, 'kme-h0'], lengthKm: 0, secretKeyRate: uniform(rng, 3000, 9000) },
      { name: 'r-h1', ends: ['kme-r', 'kme-h1'], lengthKm: 0, secretKeyRate: uniform(rng, 3000, 9000) },
    ],
    apps: Array.from({ length: 3 }, (_, i) => ({
      name: `a${i}`,
      cpu: uniform(rng, 0.3, 1.2),
      keyRate: uniform(rng, 1000, 4000),
      maxLoad: 0.9,
      minKeyAvailability: 0,
    })),
  };
  let t = 0;
  const trace = Array.from({ length: 7 }, () => {
    t += uniform(rng, 0, 2);
    return { time: t, app: Math.floor(rng() * 3), holding: uniform(rng, 1, 8) };
  });
  return { instance, trace };
}

function feasible(instance: Instance, trace: readonly Arrival[], assignment: readonly number[]): boolean {
  const paths = hostPaths(instance);
  return trace.every((a) => {
    const cpu = instance.hosts.map(() => 0);
    const key = instance.links.map(() => 0);
    trace.forEach((b, j) => {
      const h = assignment[j] as number;
      if (h < 0 || !(b.time <= a.time && a.time < b.time + b.holding)) return;
      const app = instance.apps[b.app]!;
      cpu[h] = (cpu[h] as number) + app.cpu;
      for (const l of paths[h]!) key[l] = (key[l] as number) + app.keyRate;
    });
    return (
      instance.hosts.every((h, i) => (cpu[i] as number) <= 0.9 * h.capacity + 1e-9) &&
      instance.links.every((l, i) => (key[i] as number) <= l.secretKeyRate + 1e-9)
    );
  });
}

function bruteForce(instance: Instance, trace: readonly Arrival[]): number {
  const H = instance.hosts.length;
  let best = 0;
  const assignment = trace.map(() => -1);
  const visit = (j: number, admitted: number) => {
    if (j === trace.length) {
      if (admitted > best && feasible(instance, trace, assignment)) best = admitted;
      return;
    }
    for (let h = -1; h < H; h++) {
      assignment[j] = h;
      visit(j + 1, admitted + (h >= 0 ? 1 : 0));
    }
    assignment[j] = -1;
  };
  visit(0, 0);
  return best;
}

describe('offline optimum (HiGHS MILP)', () => {
  it('admits exactly as many as enumeration finds, with a feasible assignment', async () => {
    let binding = 0;
    for (let seed = 1; seed <= 12; seed++) {
      const { instance, trace } = tinyInstance(seed);
      const opt = await offlineOptimum(instance, trace);
      const best = bruteForce(instance, trace);
      expect(opt.admitted, `seed ${seed}`).to.equal(best);
      expect(feasible(instance, trace, opt.assignment), `seed ${seed}`).to.equal(true);
      if (best < trace.length) binding++;
    }
    // the instances must make the optimiser choose, or the comparison proves nothing
    expect(binding).to.be.at.least(6);
  });
});
