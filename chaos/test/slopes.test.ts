// The soak's slopes: a steady rise is found in both halves, a buffer that fills and stays full
// only in the whole run, and p99 picks the 99th percentile.
import { expect } from 'chai';
import { p99, secondHalf, slopePerHour } from '../src/slopes.ts';

const MIN = 60_000;
const run = 30 * MIN;
const every15s = (f: (t: number) => number) =>
  Array.from({ length: run / 15_000 }, (_, i) => ({ t: (i + 1) * 15_000, y: f((i + 1) * 15_000) }));

describe('soak slopes', () => {
  it('finds a leak of 10 MB/h in the whole run and in its second half', () => {
    const leak = every15s((t) => 50 + (10 * t) / (60 * MIN));
    expect(slopePerHour(leak)).to.be.closeTo(10, 1e-9);
    expect(slopePerHour(secondHalf(leak, run))).to.be.closeTo(10, 1e-9);
  });

  it('sees a buffer full after 10 minutes as growth over the whole run and flat in the second half', () => {
    const plateau = every15s((t) => 50 + 30 * Math.min(1, t / (10 * MIN)));
    expect(slopePerHour(plateau)).to.be.greaterThan(40);
    expect(slopePerHour(secondHalf(plateau, run))).to.equal(0);
  });

  it('has no slope below three points and keeps the second half by time', () => {
    expect(
      slopePerHour([
        { t: 0, y: 1 },
        { t: 1, y: 2 },
      ]),
    ).to.equal(undefined);
    const pts = every15s(() => 1);
    expect(secondHalf(pts, run).map((p) => p.t)[0]).to.equal(15 * MIN);
    expect(secondHalf(pts, run)).to.have.length(pts.length / 2 + 1);
  });

  it('takes the 99th percentile of a window', () => {
    expect(p99(Array.from({ length: 200 }, (_, i) => 200 - i))).to.equal(198);
    expect(p99([7])).to.equal(7);
    expect(p99([])).to.equal(undefined);
  });
});
