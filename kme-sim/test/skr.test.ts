import { expect } from 'chai';
import { DEFAULT_SKR_MODEL, SkrModel, secretKeyRate } from '../src/skr.ts';

describe('secret key rate models', () => {
  it('exponential model matches the published figures (100 kb/s · e^(−0.0609 L))', () => {
    expect(Math.round(secretKeyRate(DEFAULT_SKR_MODEL, 10))).to.equal(54_389);
    expect(Math.round(secretKeyRate(DEFAULT_SKR_MODEL, 50))).to.equal(4_760);
    expect(Math.round(secretKeyRate(DEFAULT_SKR_MODEL, 100))).to.equal(227);
  });

  it('decoy-state BB84 with GYS parameters matches the table in docs/qkd014.md §3.3', () => {
    const gys = SkrModel.parse({ type: 'decoy-bb84' });
    const kbps = (km: number) => secretKeyRate(gys, km) / 1000;
    expect(kbps(0)).to.be.closeTo(2560, 10);
    expect(kbps(50)).to.be.closeTo(223, 1);
    expect(kbps(100)).to.be.closeTo(17.2, 0.1);
    expect(kbps(125)).to.be.closeTo(3.2, 0.05);
    expect(kbps(145)).to.equal(0);
  });
});
