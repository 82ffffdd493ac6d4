import { expect } from 'chai';
import { createKeysAhead } from '../src/wrapper/keys-ahead.ts';
import { header } from './headers.ts';

const given = (seqs: number[]) => ({
  validMs: 1000,
  keys: seqs.map((seq) => ({
    seq,
    requestKey: Buffer.alloc(32, seq).toString('base64'),
    responseKey: Buffer.alloc(32, 100 + seq).toString('base64'),
  })),
});

describe('action wrapper keys ahead (held for the next invocations in this container)', () => {
  it('serves each held sequence number once, for the same binding only', () => {
    const ahead = createKeysAhead(() => 0);
    ahead.add(header(0), given([1, 2]));
    expect(ahead.take(header(1, { contextId: 'f'.repeat(32) }))).to.equal(undefined);
    expect(ahead.take(header(1))?.req[0]).to.equal(1);
    expect(ahead.take(header(1))).to.equal(undefined);
    expect(ahead.holds(header(0).keyId)).to.equal(true);
    expect(ahead.take(header(2))?.res[0]).to.equal(102);
    expect(ahead.holds(header(0).keyId)).to.equal(false);
  });

  it('names and zeroes the unused ones when released; forgets them past their window', () => {
    let now = 0;
    const ahead = createKeysAhead(() => now);
    ahead.add(header(0), given([1, 2, 3]));
    const one = ahead.take(header(1))!;
    const two = ahead.take(header(2))!;
    expect(ahead.release(header(0).keyId)).to.deep.equal([3]);
    expect(ahead.take(header(3))).to.equal(undefined);
    expect(one.req[0]).to.equal(1); // taken keys are the invocation's own
    expect(two.req[0]).to.equal(2);
    ahead.add(header(4), given([5]));
    now = 1000;
    expect(ahead.take(header(5))).to.equal(undefined);
    expect(ahead.release(header(0).keyId)).to.deep.equal([]);
  });
});
