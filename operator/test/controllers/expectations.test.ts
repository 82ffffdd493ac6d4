import { expect } from 'chai';
import { ContextIndex } from '../../src/controllers/context-index.ts';
import { hasObserved, WriteExpectations } from '../../src/controllers/expectations.ts';
import { context, key, placed } from './fixtures.ts';

const at = (c: ReturnType<typeof context>, rv: string, status?: Record<string, unknown>) =>
  ({
    ...c,
    metadata: { ...c.metadata, resourceVersion: rv },
    ...(status ? { status } : {}),
  }) as typeof c;

describe('own-write expectations (a reconcile is never put off forever)', () => {
  it('counts a write as observed when the cache shows a newer version than ours', () => {
    const idx = new ContextIndex();
    const a = context('cardio', { phase: 'Pending' }, '10');
    idx.upsert(key(a), a);
    idx.wrote(key(a), at(a, '11', placed('h1', 'act-1')));
    // someone else wrote after us, and the watch skipped straight to it (e.g. a relist after 410)
    const newer = at(a, '12', placed('h1', 'act-1'));
    idx.upsert(key(a), newer);
    expect(idx.deferIfBehind(key(a), newer)).to.equal(false);
  });

  it('does not wait for a write whose watch event came before the PATCH response', () => {
    const idx = new ContextIndex();
    const a = context('cardio', { phase: 'Pending' }, '20');
    idx.upsert(key(a), a);
    const ours = at(a, '21', placed('h1', 'act-1'));
    idx.upsert(key(a), ours);
    const later = at(a, '22', placed('h1', 'act-1'));
    idx.upsert(key(a), later);
    idx.wrote(key(a), ours); // the response is processed last
    expect(idx.deferIfBehind(key(a), later)).to.equal(false);
    expect(idx.actionUsers('ns/h1', 'act-1')).to.equal(1);
  });

  it('expires an unobserved write when it is read, without waiting for another event', () => {
    let now = 1_000_000;
    const idx = new ContextIndex({ now: () => now });
    const a = context('cardio', { phase: 'Pending' }, '30');
    idx.upsert(key(a), a);
    idx.wrote(key(a), at(a, '31', placed('h1', 'act-1')));
    expect(idx.deferIfBehind(key(a), a)).to.equal(true);
    now += 120_000;
    expect(idx.deferIfBehind(key(a), a)).to.equal(false);
    // the expired write no longer stands in for what the cache shows
    expect(idx.actionUsers('ns/h1', 'act-1')).to.equal(0);
  });
});

describe('usage identity is namespace/name', () => {
  it('keeps two same-named hosts in two namespaces apart', () => {
    const idx = new ContextIndex();
    const inA = context('cardio', placed('edge-1', 'act-1'));
    const inB = context('cardio', placed('edge-1', 'act-1'));
    const b = { ...inB, metadata: { ...inB.metadata, namespace: 'other' } } as typeof inB;
    const b2 = context('cardio', placed('edge-1', 'act-1'));
    const bb = { ...b2, metadata: { ...b2.metadata, namespace: 'other' } } as typeof b2;
    for (const c of [inA, b, bb]) idx.upsert(key(c), c);
    expect(idx.contextCount('ns/edge-1')).to.equal(1);
    expect(idx.contextCount('other/edge-1')).to.equal(2);
    expect(idx.actionUsers('ns/edge-1', 'act-1')).to.equal(1);
    expect([...idx.actionsOn('other/edge-1').keys()]).to.deep.equal(['act-1']);
    expect(idx.contextsOn('ns/edge-1')).to.deep.equal([key(inA)]);
  });

  it('keeps QKD link usage of two namespaces apart', () => {
    const idx = new ContextIndex();
    const inA = context('cardio', placed('edge-1', 'act-1'));
    const c = context('cardio', placed('edge-1', 'act-1'));
    const inB = { ...c, metadata: { ...c.metadata, namespace: 'other' } } as typeof c;
    for (const x of [inA, inB]) idx.upsert(key(x), x);
    expect(Object.fromEntries(idx.linkUsers('ns', 'KME_C', 'KME_H1'))).to.deep.equal({ cardio: 1 });
    expect(Object.fromEntries(idx.linkUsers('other', 'KME_C', 'KME_H1'))).to.deep.equal({ cardio: 1 });
  });
});

describe('WriteExpectations', () => {
  it('compares etcd resourceVersions as integers, opaque ones only for equality', () => {
    expect(hasObserved('100', '99')).to.equal(true);
    expect(hasObserved('99', '100')).to.equal(false);
    expect(hasObserved(undefined, '1')).to.equal(false);
    // opaque: our version, or anything but the one our write replaced
    expect(hasObserved('b', 'b', 'a')).to.equal(true);
    expect(hasObserved('c', 'b', 'a')).to.equal(true);
    expect(hasObserved('a', 'b', 'a')).to.equal(false);
  });

  it('drops an expectation once met or lapsed, telling the caller', () => {
    let now = 0;
    const e = new WriteExpectations<string>(1000, () => now);
    const done: string[] = [];
    e.expect('k', '5', '4', 'placed');
    expect(e.waiting('k', '4', () => done.push('met'))).to.equal('placed');
    expect(e.waiting('k', '6', () => done.push('met'))).to.equal(undefined);
    e.expect('k', '7', '6', 'placed');
    now = 1001;
    expect(e.waiting('k', '6', () => done.push('lapsed'))).to.equal(undefined);
    expect(done).to.deep.equal(['met', 'lapsed']);
    expect(e.has('k')).to.equal(false);
  });
});
