// A client gets its burst, then one request per 1/rate s; another client is not affected.
import { expect } from 'chai';
import { RateLimiter } from '../../src/rate-limit.ts';

describe('lcmp rate limiter', () => {
  it('refuses a client over its budget with the seconds to wait, and spares the others', () => {
    let now = 0;
    const limit = new RateLimiter({ perSecond: 2, burst: 3, now: () => now });
    expect([1, 2, 3].map(() => limit.take('ward'))).to.deep.equal([0, 0, 0]);
    expect(limit.take('ward')).to.equal(1);
    expect(limit.take('lab')).to.equal(0);
    now += 500;
    expect(limit.take('ward')).to.equal(0);
    expect(limit.take('ward')).to.equal(1);
  });

  it('does nothing at rate 0', () => {
    const limit = new RateLimiter({ perSecond: 0, burst: 1 });
    expect(Array.from({ length: 100 }, () => limit.take('ward')).every((s) => s === 0)).to.equal(true);
  });
});
