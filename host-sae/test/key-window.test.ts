import type { EnvelopeHeader } from '@mecqkd/sdk/envelope';
import { expect } from 'chai';
import { claim, droppable, holdKey } from '../src/key-window.ts';

const header = (seq: number, over: Partial<EnvelopeHeader> = {}): EnvelopeHeader => ({
  v: 1,
  keyId: 'bc490419-7d60-487f-adc1-4ddcc177c139',
  seq,
  contextId: '0123456789abcdef0123456789abcdef',
  action: 'mecqkd-cardio-0123456789ab',
  clientSaeId: 'SAE_CLIENT',
  direction: 'request',
  ...over,
});
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
    if (!c.ok) throw new Error(c.message);
    c.material.fill(0);
    expect(k.material?.[0]).to.equal(7);
  });
});
