import { expect } from 'chai';
import { sequenceSteps } from '../src/console/sequence.ts';

describe('console: follow the sequence', () => {
  const ctx = { at: '2026-12-01T10:00:00.000Z', listAppsMs: 4.123, createContextMs: 310 };
  const inv = { clientKeyMs: 0, keyFetched: false, encryptMs: 0.2, invokeMs: 25, decryptMs: 0.1 };

  it('numbers the twelve steps of the architecture in order, 1–4 marked as done at context creation', () => {
    const steps = sequenceSteps(ctx, inv, 'host-1');
    expect(steps.map((s) => s.n)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(steps.map((s) => s.name)).to.deep.equal([
      'List apps',
      'Create context',
      'Placement',
      'Deploy',
      'Key from client KME',
      'Encrypt',
      'Invoke',
      'Key from host KME',
      'Decrypt',
      'Run',
      'Encrypt',
      'Decrypt',
    ]);
    expect(steps.filter((s) => s.earlier).map((s) => s.n)).to.deep.equal([1, 2, 3, 4]);
    expect(steps[0]).to.include({ ms: 4.12 });
    expect(steps[0]!.note).to.equal('once, when the context was created');
    expect(steps[6]!.where).to.contain('host-1');
  });

  it('shows no number for what nobody measured, and says where it is included', () => {
    const steps = sequenceSteps(ctx, inv, 'host-1');
    for (const n of [3, 4, 8, 9, 10, 11]) expect(steps[n - 1]!.ms, `step ${n}`).to.equal(null);
    expect(steps[2]!.note).to.contain('inside step 2');
    expect(steps[9]!.note).to.contain('inside step 7');
    expect(steps[4]!.note).to.equal('no wait: a key fetched ahead of time, or the current one');
  });

  it('takes the host side timings when the host reports them', () => {
    const steps = sequenceSteps(
      ctx,
      { ...inv, keyFetched: true, host: { keyMs: 3, decryptMs: 0.05, runMs: 1.5, encryptMs: 0.04 } },
      'host-2',
    );
    expect(steps.slice(7, 11).map((s) => s.ms)).to.deep.equal([3, 0.05, 1.5, 0.04]);
    expect(steps[4]!.note).to.equal(undefined);
  });
});
