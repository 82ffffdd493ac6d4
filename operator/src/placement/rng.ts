// Randomness enters placement only through an injected generator, so that weighted-random choices and the
// property tests are reproducible from a seed.

/** Returns a number in [0, 1), like Math.random. */
export type Rng = () => number;

/** A small seeded generator (mulberry32): fast, 32-bit state, good enough for choices and tests. */
export function seededRng(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
