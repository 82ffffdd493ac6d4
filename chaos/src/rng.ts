// Every fuzz case and chaos schedule is reproducible from its seed: the placement's seeded generator
// (mulberry32), and two small ways of drawing from it.
import type { Rng } from '@mecqkd/operator/placement/rng';

export { type Rng, seededRng } from '@mecqkd/operator/placement/rng';

export function pick<T>(rng: Rng, xs: readonly T[]): T {
  if (xs.length === 0) throw new Error('pick from an empty list');
  return xs[Math.floor(rng() * xs.length)]!;
}

/** An integer in [lo, hi]. */
export function between(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo + 1));
}
