// whisk-sim's activation store is bounded by count and by age, as OpenWhisk's store is by its
// retention: a steady load must not grow the simulator's heap for as long as it runs.
import { expect } from 'chai';
import { type Activation, createActivationStore, STATUS } from '../src/activations.ts';

const record = (activationId: string, end: number): Activation => ({
  namespace: 'guest',
  name: 'hello',
  subject: 'guest',
  activationId,
  start: end - 5,
  end,
  duration: 5,
  response: { ...STATUS.success, success: true, result: {}, size: 2 },
  logs: [],
  version: '0.0.1',
  publish: false,
  annotations: [],
});

describe('whisk-sim activation store', () => {
  it('drops the records completed more than the retention ago', () => {
    let t = 1_000_000;
    const store = createActivationStore({ maxRecords: 100, retentionMs: 60_000, now: () => t });
    store.add(record('a'.repeat(32), t));
    t += 30_000;
    store.add(record('b'.repeat(32), t));
    t += 31_000; // a is 61 s old, b 31 s
    expect(store.get('guest', 'a'.repeat(32))).to.equal(undefined);
    expect(
      store.list('guest', { limit: 30, skip: 0, count: false }).map((a) => a.activationId),
    ).to.deep.equal(['b'.repeat(32)]);
    t += 30_000;
    store.add(record('c'.repeat(32), t));
    expect(store.list('guest', { limit: 30, skip: 0, count: true })).to.have.length(1);
  });

  it('keeps at most maxRecords, the newest', () => {
    const store = createActivationStore({ maxRecords: 2, retentionMs: 60_000 });
    for (const c of 'abc') store.add(record(c.repeat(32), Date.now()));
    expect(
      store.list('guest', { limit: 30, skip: 0, count: false }).map((a) => a.activationId[0]),
    ).to.deep.equal(['c', 'b']);
  });
});
