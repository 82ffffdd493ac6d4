// Placement policies behind one interface. Every feasibility-checking baseline filters with the
// operator's own `filterHosts` (load + the context's estimate under maxLoad, a key path whose every hop
// has the spare rate) and differs only in how it chooses; "ours" is the operator's `placeContext` with
// its default weights and policy; the seed MEO filters and scores as the seed did (placement.md).
import { choose } from '@mecqkd/operator/placement/choose';
import { filterHosts } from '@mecqkd/operator/placement/filter';
import {
  buildKeyGraph,
  DEFAULT_MAX_HOPS,
  type KeyPath,
  keyPaths,
  linkUsable,
} from '@mecqkd/operator/placement/key-graph';
import { placeContext } from '@mecqkd/operator/placement/place';
import type { Rng } from '@mecqkd/operator/placement/rng';
import { DEFAULT_WEIGHTS, score } from '@mecqkd/operator/placement/score';
import type {
  Candidate,
  HostView,
  LinkView,
  PlacementRequest,
  ScoreWeights,
} from '@mecqkd/operator/placement/types';

export interface View {
  hosts: HostView[];
  links: LinkView[];
}

export interface Choice {
  host: string;
  path: string[];
}

export interface Policy {
  name: string;
  /**
   * What the policy knows between telemetry refreshes. `projected`: the operator's view (last
   * measurement plus the estimate of every context placed since; committed key rates from the
   * placed contexts). `raw`: the last measurement only, as the seed MEO had it.
   */
  view: 'projected' | 'raw';
  /** Rejects only when no host passes the operator's filter (a pooled loss system in the degenerate case). */
  checksFeasibility: boolean;
  place(request: PlacementRequest, view: View, rng: Rng): Choice | undefined;
}

const pick = <T>(rng: Rng, xs: readonly T[]): T | undefined =>
  xs.length ? xs[Math.floor(rng() * xs.length)] : undefined;

/** The elements with the smallest key, one of them at random (ties are common: equal loads). */
function argmin<T>(rng: Rng, xs: readonly T[], key: (x: T) => number): T | undefined {
  let best: T[] = [];
  let low = Number.POSITIVE_INFINITY;
  for (const x of xs) {
    const k = key(x);
    if (k < low - 1e-12) {
      low = k;
      best = [x];
    } else if (Math.abs(k - low) <= 1e-12) best.push(x);
  }
  return pick(rng, best);
}

interface Feasible {
  host: HostView;
  path: KeyPath;
}

function feasible(request: PlacementRequest, view: View): Feasible[] {
  return filterHosts(request, view.hosts, buildKeyGraph(view.links), { maxHops: DEFAULT_MAX_HOPS }).feasible;
}

const asChoice = (f: Feasible | undefined): Choice | undefined =>
  f ? { host: f.host.name, path: f.path.kmes } : undefined;

function filtering(
  name: string,
  chooseOne: (fs: Feasible[], r: PlacementRequest, rng: Rng) => Feasible | undefined,
): Policy {
  return {
    name,
    view: 'projected',
    checksFeasibility: true,
    place: (request, view, rng) => asChoice(chooseOne(feasible(request, view), request, rng)),
  };
}

export const randomBlind: Policy = {
  name: 'random-blind',
  view: 'projected',
  checksFeasibility: false,
  place(request, view, rng) {
    const host = pick(rng, view.hosts);
    if (!host) return undefined;
    const path = keyPaths(buildKeyGraph(view.links), request.clientKmeId, linkUsable).get(host.kmeId);
    return path ? { host: host.name, path: path.kmes } : undefined;
  },
};

export const randomFeasible = filtering('random-feasible', (fs, _r, rng) => pick(rng, fs));
export const leastLoaded = filtering('least-loaded', (fs, _r, rng) => argmin(rng, fs, (f) => f.host.load));
export const powerOfTwo = filtering('power-of-two', (fs, _r, rng) => {
  const a = pick(rng, fs);
  const rest = fs.filter((f) => f !== a);
  const b = pick(rng, rest);
  return !b || (a && a.host.load <= b.host.load) ? a : b;
});
/** Least residual CPU after placing: consolidates, keeping large holes for large contexts. */
export const bestFit = filtering('best-fit', (fs, r, rng) =>
  argmin(rng, fs, (f) => r.demand.maxLoad - f.host.load - r.demand.loadPerContext),
);
/** Best key supply: fewest hops, then the largest spare key rate on the bottleneck hop. */
export const shortestPathFirst = filtering('shortest-path-first', (fs, _r, rng) =>
  argmin(rng, fs, (f) => f.path.links.length * 1e12 - Math.min(f.path.spareKeyRate, 1e11)),
);

/** The operator's placement: filter, score with `weights`, take the best. */
export function operatorPolicy(name: string, weights: ScoreWeights = DEFAULT_WEIGHTS): Policy {
  return {
    name,
    view: 'projected',
    checksFeasibility: true,
    place(request, view, rng) {
      const d = placeContext(request, view.hosts, view.links, weights, 'best', rng, {
        maxHops: DEFAULT_MAX_HOPS,
        trustedInputs: true,
      });
      return d.kind === 'placed' ? { host: d.host, path: d.path } : undefined;
    },
  };
}

export const ours = operatorPolicy('ours');

/** The seed scores from (load, key availability) only; it has no path, context or key-rate terms. */
export const SEED_WEIGHTS: ScoreWeights = { ...DEFAULT_WEIGHTS, pathLength: 0, contexts: 0, keyHeadroom: 0 };

/**
 * The seed MEO: drop hosts whose measured load exceeds maxLoad (the new context's own load is not
 * counted) or whose key availability is under the minimum (key rates are not known to it), then pick
 * at random weighted by score, with the operator's `score` and `choose('weighted-random')`.
 */
export const seedWeightedRandom: Policy = {
  name: 'seed-weighted-random',
  view: 'raw',
  checksFeasibility: true,
  place(request, view, rng) {
    const { demand } = request;
    const paths = keyPaths(buildKeyGraph(view.links), request.clientKmeId, linkUsable);
    const candidates: Candidate[] = [];
    for (const h of view.hosts) {
      const path = paths.get(h.kmeId);
      if (!h.ready || !path || h.load > demand.maxLoad || path.keyAvailability < demand.minKeyAvailability)
        continue;
      candidates.push({
        host: h.name,
        path: path.kmes,
        keyAvailability: path.keyAvailability,
        spareKeyRate: path.spareKeyRate,
        score: score(SEED_WEIGHTS, {
          load: h.load,
          contexts: h.contexts,
          hops: path.links.length,
          keyAvailability: path.keyAvailability,
          keyHeadroom: 0, // weighed 0: the seed knows no key rates
        }),
      });
    }
    const c = choose(candidates, 'weighted-random', rng);
    return c ? { host: c.host, path: c.path } : undefined;
  },
};
