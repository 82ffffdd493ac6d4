import { expect } from 'chai';
import { ContextIndex } from '../../src/controllers/context-index.ts';
import { context, key, placed } from './fixtures.ts';

describe('ContextIndex (derived from cached AppContexts)', () => {
  it('counts the users of an action per host, excluding a context being deleted', () => {
    const idx = new ContextIndex();
    const a = context('cardio', placed('h1', 'act-1'));
    const b = context('cardio', placed('h1', 'act-1'));
    idx.upsert(key(a), a);
    idx.upsert(key(b), b);
    expect(idx.actionUsers('ns/h1', 'act-1')).to.equal(2);
    expect(idx.actionUsers('ns/h1', 'act-1', key(a))).to.equal(1);
    const deleting = { ...b, metadata: { ...b.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } };
    idx.upsert(key(b), deleting);
    expect(idx.actionUsers('ns/h1', 'act-1', key(a))).to.equal(0);
    expect([...idx.actionsOn('ns/h1').keys()]).to.deep.equal(['act-1']);
  });

  it('moves a context between hosts on update and forgets it on delete', () => {
    const idx = new ContextIndex();
    const a = context('cardio', placed('h1', 'act-1'));
    idx.upsert(key(a), a);
    idx.upsert(key(a), { ...a, status: { ...a.status, ...placed('h2', 'act-1') } });
    expect(idx.contextCount('ns/h1')).to.equal(0);
    expect(idx.contextCount('ns/h2')).to.equal(1);
    idx.remove(key(a));
    expect(idx.contextCount('ns/h2')).to.equal(0);
    expect([...idx.placed()]).to.deep.equal([]);
  });

  it('counts contexts per app on every hop of their key path', () => {
    const idx = new ContextIndex();
    const relayed = context('covid', placed('h2', 'act-2', undefined, ['KME_C', 'KME_R', 'KME_H2']));
    idx.upsert(key(relayed), relayed);
    expect(Object.fromEntries(idx.linkUsers('ns', 'KME_R', 'KME_C'))).to.deep.equal({ covid: 1 });
    expect(Object.fromEntries(idx.linkUsers('ns', 'KME_H2', 'KME_R'))).to.deep.equal({ covid: 1 });
    expect(idx.linkUsers('ns', 'KME_C', 'KME_H2').size).to.equal(0);
  });

  it('lists only Pending contexts as waiting for hosts or links to change', () => {
    const idx = new ContextIndex();
    const fresh = context('cardio', undefined, '5');
    const rejected = context('cardio', { phase: 'Rejected' }, '6');
    const pending = context('covid', { phase: 'Pending' }, '7');
    for (const c of [fresh, rejected, pending]) idx.upsert(key(c), c);
    expect(idx.waitingContexts()).to.deep.equal([key(pending)]);
    // our own write of Pending counts at once, before the watch shows it
    const written = {
      ...fresh,
      metadata: { ...fresh.metadata, resourceVersion: '8' },
      status: { phase: 'Pending' },
    };
    idx.wrote(key(fresh), written as typeof fresh);
    expect(idx.waitingContexts().sort()).to.deep.equal([key(pending), key(fresh)].sort());
  });

  it('sees its own status write before the watch delivers it, then defers to the watch', () => {
    const idx = new ContextIndex();
    const a = context('cardio', { phase: 'Pending' }, '10');
    idx.upsert(key(a), a);
    expect(idx.waitingContexts()).to.deep.equal([key(a)]);
    const written = {
      ...a,
      metadata: { ...a.metadata, resourceVersion: '11' },
      status: placed('h1', 'act-1'),
    };
    idx.wrote(key(a), written as typeof a);
    expect(idx.actionUsers('ns/h1', 'act-1')).to.equal(1);
    expect(idx.waitingContexts()).to.deep.equal([]);
    // a stale event (older than our write) does not undo it, and a reconcile of it is put off
    idx.upsert(key(a), a);
    expect(idx.actionUsers('ns/h1', 'act-1')).to.equal(1);
    expect(idx.waitingContexts()).to.deep.equal([]);
    const caughtUp: string[] = [];
    idx.whenCaughtUp((k) => caughtUp.push(k));
    expect(idx.deferIfBehind(key(a), a)).to.equal(true);
    expect(caughtUp).to.deep.equal([]);
    // the watch catches up with the written version: the put-off reconcile is handed back
    idx.upsert(key(a), written as typeof a);
    expect(idx.actionUsers('ns/h1', 'act-1')).to.equal(1);
    expect(caughtUp).to.deep.equal([key(a)]);
    expect(idx.deferIfBehind(key(a), written as typeof a)).to.equal(false);
    expect(idx.waitingContexts()).to.deep.equal([]);
  });

  it('counts per app the contexts placed on a host after a time, and forgets moved ones', () => {
    const idx = new ContextIndex();
    const times = [
      '2026-01-01T00:00:01Z',
      '2026-01-01T00:00:03Z',
      '2026-01-01T00:00:02Z',
      '2026-01-01T00:00:03Z',
    ];
    const made = times.map((t, i) => {
      const c = context(i === 3 ? 'covid' : 'cardio', placed('h1', 'act-1', t));
      idx.upsert(key(c), c);
      return c;
    });
    const since = Date.parse('2026-01-01T00:00:01Z');
    // weights tell the apps apart: cardio counts 1, covid 100
    const weight = (app: string) => (app === 'covid' ? 100 : 1);
    expect(idx.placedSince('ns/h1', since, weight)).to.equal(102);
    idx.upsert(key(made[1]!), {
      ...made[1]!,
      status: { ...made[1]!.status, ...placed('h2', 'act-1', times[1]) },
    });
    expect(idx.placedSince('ns/h1', since, weight)).to.equal(101);
    expect(idx.placedSince('ns/h2', since, weight)).to.equal(1);
  });
});
