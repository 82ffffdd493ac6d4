import { expect } from 'chai';
import { KeyPool } from '../src/pool.ts';

const ID1 = '00000000-0000-4000-8000-000000000001';
const ID2 = '00000000-0000-4000-8000-000000000002';

describe('key pool', () => {
  it('hands each key once to each authorised slave, then forgets it', () => {
    const pool = new KeyPool(60_000);
    pool.add([ID1], [Buffer.from('k1')], 'master', ['s1', 's2'], 0);
    expect(pool.take('s1', 'master', [ID1], 1)).to.deep.include({ ok: true });
    expect(pool.take('s1', 'master', [ID1], 1)).to.deep.equal({ ok: false, reason: 'not-found' });
    expect(pool.size).to.equal(1);
    expect(pool.take('s2', 'master', [ID1], 1)).to.deep.include({ ok: true });
    expect(pool.size).to.equal(0);
  });

  it('fails the whole request, taking nothing, when one key is not the caller’s', () => {
    const pool = new KeyPool(60_000);
    pool.add([ID1], [Buffer.from('k1')], 'master', ['s1'], 0);
    pool.add([ID2], [Buffer.from('k2')], 'master', ['s2'], 0);
    expect(pool.take('s1', 'master', [ID1, ID2], 1)).to.deep.equal({ ok: false, reason: 'unauthorised' });
    expect(pool.take('s1', 'master', [ID1], 1)).to.deep.equal({ ok: true, keys: [Buffer.from('k1')] });
  });

  it('treats a key reserved by another master, or expired, as not found', () => {
    const pool = new KeyPool(1000);
    pool.add([ID1], [Buffer.from('k1')], 'master', ['s1'], 0);
    expect(pool.take('s1', 'other', [ID1], 1)).to.deep.equal({ ok: false, reason: 'not-found' });
    expect(pool.take('s1', 'master', [ID1], 1000)).to.deep.equal({ ok: false, reason: 'not-found' });
    expect(pool.sweep(1000)).to.equal(1);
  });
});
