// The demo's client SAE quota comes from the catalog's declared demand, not a number of its own.
import { expect } from 'chai';
import { CATALOG, clientKeyQuota, WARD_CLIENT } from '../src/system.ts';

describe('demo client SAE key quota', () => {
  it('sums the allowance of one context per tablet and model of the catalog', () => {
    expect(CATALOG).to.include.members(['mecapp-cardio.yaml', 'mecapp-covid.yaml']);
    expect(WARD_CLIENT.devAppIds).to.have.length(4);
    // cardio 2 invocations/s at 1 per key, covid 5/s at 10 per key: 2.5 keys/s and two bursts of 16
    // per tablet, in 256-bit keys
    expect(clientKeyQuota()).to.deep.equal({ maxBandwidth: 4 * 2.5 * 256, burstBits: 4 * 32 * 256 });
  });
});
