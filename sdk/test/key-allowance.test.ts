// The per-context key allowance (pure): derived from the declared demand, and the GCRA decision
// the host SAE (as a Redis script) and the SDK (in memory) both make.
import { expect } from 'chai';
import { admitKey, clientAllowance, type KeyAllowance, keyAllowance } from '../src/key-allowance.ts';

/** Keys admitted at each of `times` (ms) from an empty state; refusals leave the state alone. */
function run(a: KeyAllowance, times: number[]): boolean[] {
  let tat: number | undefined;
  return times.map((t) => {
    const d = admitKey(tat, t, a);
    if (d.ok) tat = d.tat;
    return d.ok;
  });
}

describe('key allowance (pure)', () => {
  it('derives the rate from invocations/s over invocations per key, the burst from two seconds of it', () => {
    expect(keyAllowance({ expectedInvocationsPerSecond: 5, invocationsPerKey: 10 })).to.deep.equal({
      keysPerSecond: 0.5,
      burst: 16,
    });
    expect(keyAllowance({ expectedInvocationsPerSecond: 100, invocationsPerKey: 1 })).to.deep.equal({
      keysPerSecond: 100,
      burst: 200,
    });
  });

  it('never goes below one key a minute (keys expire), however little the demand', () => {
    expect(keyAllowance({ expectedInvocationsPerSecond: 0, invocationsPerKey: 1 }).keysPerSecond).to.equal(
      1 / 60,
    );
    expect(keyAllowance({ expectedInvocationsPerSecond: 1, invocationsPerKey: 1000 }).keysPerSecond).to.equal(
      1 / 60,
    );
  });

  it('admits a burst at once, then refuses with the wait until the next key fits', () => {
    const a = { keysPerSecond: 2, burst: 3 };
    expect(run(a, [0, 0, 0, 0])).to.deep.equal([true, true, true, false]);
    let tat: number | undefined;
    for (let i = 0; i < 3; i++) {
      const d = admitKey(tat, 1000, a);
      if (d.ok) tat = d.tat;
    }
    expect(admitKey(tat, 1000, a)).to.deep.equal({ ok: false, retryAfterMs: 500 });
    expect(admitKey(tat, 1500, a).ok).to.equal(true);
  });

  it('holds a greedy caller to the rate over time: burst + rate × elapsed keys', () => {
    const a = { keysPerSecond: 4, burst: 8 };
    // a key asked for every millisecond for 10 s
    const times = Array.from({ length: 10_000 }, (_, i) => i);
    const admitted = run(a, times).filter(Boolean).length;
    expect(admitted).to.be.within(8 + 4 * 10 - 1, 8 + 4 * 10 + 1);
  });

  it('a caller within its rate is never refused', () => {
    const a = { keysPerSecond: 4, burst: 8 };
    const times = Array.from({ length: 400 }, (_, i) => i * 250);
    expect(run(a, times).every(Boolean)).to.equal(true);
  });

  it('a quiet spell refills no more than the burst', () => {
    const a = { keysPerSecond: 1, burst: 4 };
    const result = run(a, [0, 1_000_000, 1_000_000, 1_000_000, 1_000_000, 1_000_000]);
    expect(result).to.deep.equal([true, true, true, true, true, false]);
  });

  it('the client paces to half the host burst, at least one key', () => {
    expect(clientAllowance({ keysPerSecond: 3, burst: 16 })).to.deep.equal({ keysPerSecond: 3, burst: 8 });
    expect(clientAllowance({ keysPerSecond: 3, burst: 1 })).to.deep.equal({ keysPerSecond: 3, burst: 1 });
  });
});
