import { deriveKeyPair } from '@mecqkd/sdk/envelope';
import { expect } from 'chai';
import { claim, dropHolder, droppable, holdKey, release, reserve, spend } from '../src/key-window.ts';
import { header } from './headers.ts';

const T = 60_000;

describe('host SAE key window (N invocations, T seconds, each sequence once)', () => {
  const fresh = (n = 3) => holdKey(header(0).keyId, Buffer.alloc(32, 7), header(0), n, 0);

  it('serves each sequence number below N once, in any order', () => {
    const k = fresh();
    for (const seq of [2, 0, 1]) expect(claim(k, header(seq), 1, T).ok).to.equal(true);
    const again = claim(k, header(1), 1, T);
    expect(again).to.deep.include({ ok: false, reason: 'replay' });
  });

  it('refuses a sequence past N, and forgets the key material once all N are spent', () => {
    const k = fresh(2);
    expect(claim(k, header(2), 1, T)).to.deep.include({ ok: false, reason: 'sequence-exhausted' });
    claim(k, header(0), 1, T);
    claim(k, header(1), 1, T);
    expect(k.material).to.equal(undefined);
    expect(claim(k, header(1), 1, T)).to.deep.include({ ok: false, reason: 'replay' });
  });

  it('refuses after T, zeroing the key, and keeps naming the reason until 2T', () => {
    const k = fresh();
    const material = k.material!;
    expect(claim(k, header(0), T, T)).to.deep.include({ ok: false, reason: 'key-expired' });
    expect(material.every((b) => b === 0)).to.equal(true);
    expect(droppable(k, 2 * T - 1, T)).to.equal(false);
    expect(droppable(k, 2 * T, T)).to.equal(true);
  });

  it('binds a key to the context, action and client SAE of its first use', () => {
    const k = fresh();
    for (const over of [{ contextId: 'f'.repeat(32) }, { action: 'other' }, { clientSaeId: 'SAE_X' }])
      expect(claim(k, header(0, over), 1, T)).to.deep.include({ ok: false, reason: 'wrong-binding' });
    expect(claim(k, header(0), 1, T).ok).to.equal(true);
  });

  it('hands out a copy, so zeroing it leaves the held key intact', () => {
    const k = fresh();
    const c = claim(k, header(0), 1, T);
    if (!('material' in c)) throw new Error('no material');
    c.material.fill(0);
    expect(k.material?.[0]).to.equal(7);
  });
});

describe('host SAE keys handed ahead (one connection holds the next sequence numbers)', () => {
  const fresh = (n = 10) => holdKey(header(0).keyId, Buffer.alloc(32, 7), header(0), n, 0);
  const a = { name: 'container A' };
  const b = { name: 'container B' };

  it('derives the next unused sequence numbers for the holder and claims them', () => {
    const k = fresh();
    expect('material' in claim(k, header(0), 1, T, a)).to.equal(true);
    expect('material' in claim(k, header(2), 1, T, a)).to.equal(true);
    const got = reserve(k, header(0), a, 3, 1, T, 1000);
    expect(got.map((g) => g.seq)).to.deep.equal([1, 3, 4]);
    expect(got[0]!.keys.request).to.deep.equal(deriveKeyPair(Buffer.alloc(32, 7), header(1)).request);
    // another connection is told who holds it; the holder asking again has used it
    expect(claim(k, header(3), 1, T, b)).to.deep.equal({ ok: false, held: a });
    expect(claim(k, header(3), 1, T, a)).to.deep.include({ ok: false, reason: 'replay' });
  });

  it('serves what the holder released unused, once, and counts the rest as used', () => {
    const k = fresh();
    claim(k, header(0), 1, T, a);
    const [one, two] = reserve(k, header(0), a, 2, 1, T, 1000);
    release(k, a, new Set([2]));
    expect(one!.keys.request.every((x) => x === 0)).to.equal(true);
    expect(claim(k, header(1), 1, T, b)).to.deep.include({ ok: false, reason: 'replay' });
    const served = claim(k, header(2), 1, T, b);
    expect(served).to.deep.equal({ ok: true, keys: two!.keys });
    expect(claim(k, header(2), 1, T, b)).to.deep.include({ ok: false, reason: 'replay' });
  });

  it('hands nothing more ahead once a second connection uses the key, or near the end of its window', () => {
    const k = fresh();
    reserve(k, header(0), a, 2, 1, T, 1000);
    expect(reserve(k, header(5), b, 2, 1, T, 1000)).to.deep.equal([]);
    expect(reserve(k, header(6), a, 2, 1, T, 1000)).to.deep.equal([]);
    expect(reserve(fresh(), header(0), a, 2, T - 999, T, 1000)).to.deep.equal([]);
  });

  it('serves what a vanished holder never reported using to another connection, the reported ones never', () => {
    const k = fresh();
    const [one, two] = reserve(k, header(0), a, 2, 1, T, 1000);
    spend(k, a, 1);
    expect(one!.keys.request.every((x) => x === 0)).to.equal(true);
    expect(claim(k, header(1), 1, T, b)).to.deep.include({ ok: false, reason: 'replay' });
    expect(claim(k, header(2), 1, T, b)).to.deep.equal({ ok: false, held: a });
    dropHolder(k, a);
    expect(claim(k, header(1), 1, T, b)).to.deep.include({ ok: false, reason: 'replay' });
    expect(claim(k, header(2), 1, T, b)).to.deep.equal({ ok: true, keys: two!.keys });
    expect(claim(k, header(2), 1, T, b)).to.deep.include({ ok: false, reason: 'replay' });
    // another holder's report changes nothing
    const k2 = fresh();
    reserve(k2, header(0), a, 1, 1, T, 1000);
    spend(k2, b, 1);
    expect(claim(k2, header(1), 1, T, b)).to.deep.equal({ ok: false, held: a });
  });

  it('zeroes keys ahead at the end of the window', () => {
    const k = fresh();
    const [first] = reserve(k, header(0), a, 1, 1, T, 1000);
    expect(claim(k, header(1), T, T, b)).to.deep.include({ ok: false });
    expect(first!.keys.request.every((x) => x === 0)).to.equal(true);
  });

  it('zeroes the QKD key once all N are claimed or held ahead, and still serves what is held', () => {
    const k = fresh(3);
    claim(k, header(0), 1, T, a);
    reserve(k, header(0), a, 5, 1, T, 1000);
    expect(k.material).to.equal(undefined);
    release(k, a, new Set([1, 2]));
    expect(claim(k, header(2), 1, T, b).ok).to.equal(true);
  });
});
