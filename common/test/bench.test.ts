import { expect } from 'chai';
import { meetsTarget, percentile, summarise } from '../src/bench.ts';

describe('bench statistics', () => {
  it('takes nearest-rank percentiles', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 50)).to.equal(50);
    expect(percentile(xs, 99)).to.equal(99);
    expect(percentile(xs, 100)).to.equal(100);
  });
  it('summarises unsorted latencies', () => {
    expect(summarise([5, 1, 3])).to.include({ count: 3, p50: 3, max: 5 });
  });
  it('compares a value with its target', () => {
    expect(meetsTarget({ metric: 'm', value: 10, unit: 'x', target: '>= 5' })).to.equal(true);
    expect(meetsTarget({ metric: 'm', value: 10, unit: 'x', target: '<= 5' })).to.equal(false);
    expect(meetsTarget({ metric: 'm', value: 10, unit: 'x' })).to.equal(undefined);
  });
});
