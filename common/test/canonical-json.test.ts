import { expect } from 'chai';
import { canonicalJson, jsonEqual } from '../src/canonical-json.ts';

/** Small random JSON-like values, with undefined members and shuffled key order. */
function randomValue(next: () => number, depth: number): unknown {
  const r = next();
  if (depth === 0 || r < 0.4) return [0, 1, 'a', 'b', true, null, undefined][Math.floor(next() * 7)];
  if (r < 0.6) return Array.from({ length: Math.floor(next() * 3) }, () => randomValue(next, depth - 1));
  const keys = ['x', 'y', 'z'].filter(() => next() < 0.6);
  return Object.fromEntries(keys.map((k) => [k, randomValue(next, depth - 1)]));
}

function reordered(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reordered);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value)
        .reverse()
        .map(([k, v]) => [k, reordered(v)]),
    );
  return value;
}

describe('jsonEqual', () => {
  it('agrees with comparing canonical JSON on random values', () => {
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    let equalPairs = 0;
    for (let i = 0; i < 2000; i++) {
      const a = randomValue(next, 3);
      const b = i % 3 === 0 ? reordered(a) : randomValue(next, 3);
      const expected = canonicalJson(a) === canonicalJson(b);
      if (expected) equalPairs++;
      expect(jsonEqual(a, b), `${canonicalJson(a)} vs ${canonicalJson(b)}`).to.equal(expected);
    }
    expect(equalPairs).to.be.greaterThan(600);
  });

  it('ignores undefined members and key order, but not missing or extra ones', () => {
    expect(jsonEqual({ a: 1, b: undefined }, { a: 1 })).to.equal(true);
    expect(jsonEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 })).to.equal(true);
    expect(jsonEqual({ a: 1 }, { a: 1, b: null })).to.equal(false);
    expect(jsonEqual({ a: [1] }, { a: { 0: 1 } })).to.equal(false);
  });
});
