// Placing contexts: filter, score, choose. `placeBatch` places many requests against one telemetry
// snapshot, charging each decision (load, contexts, key rate on every hop) before the next, so a burst
// between two telemetry refreshes spreads instead of piling onto the momentarily best host.
import { candidates } from './candidates.ts';
import { choose } from './choose.ts';
import { infeasibility } from './filter.ts';
import { buildKeyGraph, commit, type KeyGraph } from './key-graph.ts';
import type { Rng } from './rng.ts';
import { parseWeights } from './score.ts';
import type {
  ChoicePolicy,
  HostView,
  LinkView,
  PlacementDecision,
  PlacementRequest,
  ScoreWeights,
} from './types.ts';
import { validateRequests, validateViews } from './validate.ts';

export interface PlacementOptions {
  /** Most QKD hops (trusted-node relays + 1) between the client KME and the host KME; default 3. */
  maxHops?: number;
  /**
   * Inputs were built by mecqkd from validated CRs (the operator's hot path): skip re-validating
   * them on every call. Anything else leaves this unset.
   */
  trustedInputs?: boolean;
}

function decide(
  request: PlacementRequest,
  hosts: readonly HostView[],
  graph: KeyGraph,
  weights: ScoreWeights,
  policy: ChoicePolicy,
  rng: Rng,
  opts: PlacementOptions,
): PlacementDecision {
  const { scored, rejected } = candidates(request, hosts, graph, weights, opts);
  const chosen = choose(
    scored.map((s) => s.candidate),
    policy,
    rng,
  );
  if (!chosen) return { kind: 'infeasible', ...infeasibility(rejected) };
  const picked = scored.find((s) => s.candidate === chosen)!;
  // Charge the decision so the next request in the same batch sees it.
  picked.host.load += request.demand.loadPerContext;
  picked.host.contexts += 1;
  commit(graph, picked.path, request.demand.keyRate);
  return { kind: 'placed', host: chosen.host, path: chosen.path, score: chosen.score };
}

export function placeContext(
  request: PlacementRequest,
  hosts: readonly HostView[],
  links: readonly LinkView[],
  weights: ScoreWeights,
  policy: ChoicePolicy,
  rng: Rng,
  opts: PlacementOptions = {},
): PlacementDecision {
  return placeBatch([request], hosts, links, weights, policy, rng, opts)[0] as PlacementDecision;
}

/** Places `requests` in order; inputs are not modified (the projection works on copies). */
export function placeBatch(
  requests: readonly PlacementRequest[],
  hosts: readonly HostView[],
  links: readonly LinkView[],
  weights: ScoreWeights,
  policy: ChoicePolicy,
  rng: Rng,
  opts: PlacementOptions = {},
): PlacementDecision[] {
  const w = opts.trustedInputs ? weights : parseWeights(weights);
  if (!opts.trustedInputs) {
    validateViews(hosts, links);
    validateRequests(requests);
  }
  const projected = hosts.map((h) => ({ ...h }));
  const graph = buildKeyGraph([...links]);
  return requests.map((r) => decide(r, projected, graph, w, policy, rng, opts));
}
