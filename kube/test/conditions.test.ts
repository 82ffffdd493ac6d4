import { expect } from 'chai';
import { getCondition, isConditionTrue, removeCondition, setCondition } from '../src/conditions.ts';

const t1 = new Date('2026-01-01T10:00:00.123Z');
const t2 = new Date('2026-01-01T11:00:00.456Z');
const ready = {
  type: 'Ready',
  status: 'False' as const,
  reason: 'Probing',
  message: 'first probe',
  observedGeneration: 1,
};

describe('runtime/conditions', () => {
  it('adds a condition with a seconds-precision transition time', () => {
    const out = setCondition([], ready, t1);
    expect(out).to.deep.equal([{ ...ready, lastTransitionTime: '2026-01-01T10:00:00Z' }]);
  });

  it('keeps lastTransitionTime when only reason, message or generation change', () => {
    const a = setCondition([], ready, t1);
    const b = setCondition(
      a,
      { ...ready, reason: 'StillProbing', message: 'again', observedGeneration: 2 },
      t2,
    );
    expect(b).to.not.equal(a);
    expect(getCondition(b, 'Ready')).to.include({
      reason: 'StillProbing',
      observedGeneration: 2,
      lastTransitionTime: '2026-01-01T10:00:00Z',
    });
  });

  it('moves lastTransitionTime when the status flips', () => {
    const a = setCondition([], ready, t1);
    const b = setCondition(a, { ...ready, status: 'True', reason: 'Reachable' }, t2);
    expect(getCondition(b, 'Ready')?.lastTransitionTime).to.equal('2026-01-01T11:00:00Z');
    expect(isConditionTrue(b, 'Ready')).to.equal(true);
  });

  it('returns the same array when nothing changed, and leaves other types alone', () => {
    const a = setCondition(setCondition([], ready, t1), { ...ready, type: 'Placed', status: 'True' }, t1);
    expect(setCondition(a, ready, t2)).to.equal(a);
    expect(a.map((c) => c.type)).to.deep.equal(['Ready', 'Placed']);
    expect(removeCondition(a, 'Missing')).to.equal(a);
    expect(removeCondition(a, 'Ready').map((c) => c.type)).to.deep.equal(['Placed']);
  });
});
