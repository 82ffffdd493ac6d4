// A run is a function of its seed: same seed, same metrics; another seed, other metrics.
import { expect } from 'chai';
import { generateInstance } from '../src/model.ts';
import { ours, seedWeightedRandom } from '../src/policies.ts';
import { type RunMetrics, simulate } from '../src/sim.ts';
import { arrivalTrace } from '../src/trace.ts';

function run(seed: number, policy = ours, trigger: 'ours' | 'seed' = 'ours') {
  const instance = generateInstance(seed, 5, 'relayed');
  const trace = arrivalTrace(seed, instance.apps.length, 1500, 0.08, 300);
  const { decisionNs: _, ...m } = simulate({
    instance,
    trace,
    warmup: 200,
    policy,
    trigger,
    telemetryPeriodS: 30,
    seed,
    disturbances: { meanUpS: 600, meanDownS: 300, factor: 0.3 },
  });
  return m as Omit<RunMetrics, 'decisionNs'>;
}

describe('placement-lab reproducibility', () => {
  it('the same seed gives the same metrics, for ours and for the seed MEO', () => {
    const a = run(3);
    expect(a.migrations + a.dropped + a.blocked).to.be.greaterThan(0);
    expect(run(3)).to.deep.equal(a);
    expect(run(3, seedWeightedRandom, 'seed')).to.deep.equal(run(3, seedWeightedRandom, 'seed'));
  });

  it('another seed gives another run', () => {
    expect(run(4)).to.not.deep.equal(run(3));
  });
});
