import { expect } from 'chai';
import { bitRate, percent } from '../src/units.ts';

describe('units for people', () => {
  it('rounds shares to whole percents, clamped to 0–100', () => {
    expect(percent(0.54389)).to.equal(54);
    expect(percent(0.005)).to.equal(1);
    expect(percent(1.2)).to.equal(100);
    expect(percent(-0.1)).to.equal(0);
  });

  it('writes bit rates with an SI prefix and three significant digits', () => {
    expect(bitRate(54389.44917095899)).to.equal('54.4 kb/s');
    expect(bitRate(0)).to.equal('0 b/s');
    expect(bitRate(999.4)).to.equal('999 b/s');
    expect(bitRate(999.6)).to.equal('1 kb/s');
    expect(bitRate(133_000)).to.equal('133 kb/s');
    expect(bitRate(2.5e6)).to.equal('2.5 Mb/s');
  });
});
