// Choosing among scored candidates: 'best' is deterministic; 'weighted-random' is the seed MEO's policy
// (probability proportional to score), kept for comparison.
import type { Rng } from './rng.ts';
import type { Candidate, ChoicePolicy } from './types.ts';

const byName = (a: Candidate, b: Candidate) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0);

/** Highest score; ties go to the first host name, so the choice never depends on input order. */
export function bestCandidate(candidates: readonly Candidate[]): Candidate | undefined {
  let best: Candidate | undefined;
  for (const c of candidates)
    if (!best || c.score > best.score || (c.score === best.score && byName(c, best) < 0)) best = c;
  return best;
}

export function choose(
  candidates: readonly Candidate[],
  policy: ChoicePolicy,
  rng: Rng,
): Candidate | undefined {
  if (candidates.length === 0) return undefined;
  if (policy === 'best') return bestCandidate(candidates);
  // Sorted so the same seed gives the same choice whatever order the hosts came in.
  const sorted = [...candidates].sort(byName);
  const total = sorted.reduce((s, c) => s + Math.max(0, c.score), 0);
  if (total <= 0) return sorted[Math.floor(rng() * sorted.length)];
  let r = rng() * total;
  for (const c of sorted) {
    r -= Math.max(0, c.score);
    if (r < 0) return c;
  }
  return sorted[sorted.length - 1];
}
