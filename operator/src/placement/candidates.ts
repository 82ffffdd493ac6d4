// Feasible hosts of a request with their scores (see score.ts), shared by placement and optimisation.
import { type FilterOptions, filterHosts } from './filter.ts';
import { type KeyGraph, keyHeadroom } from './key-graph.ts';
import { score } from './score.ts';
import type { Candidate, HostView, PlacementRequest, ScoreWeights } from './types.ts';

/** Feasible hosts of a request, scored as they would be with the context placed on them. */
export function candidates(
  request: PlacementRequest,
  hosts: readonly HostView[],
  graph: KeyGraph,
  weights: ScoreWeights,
  opts: FilterOptions = {},
) {
  const { feasible, rejected } = filterHosts(request, hosts, graph, opts);
  const scored = feasible.map(({ host, path }) => ({
    candidate: {
      host: host.name,
      path: path.kmes,
      keyAvailability: path.keyAvailability,
      spareKeyRate: path.spareKeyRate,
      score: score(weights, {
        load: host.load + request.demand.loadPerContext,
        contexts: host.contexts + 1,
        maxContexts: host.maxContexts,
        hops: path.links.length,
        keyAvailability: path.keyAvailability,
        keyHeadroom: keyHeadroom(graph, path, request.demand.keyRate),
      }),
    } satisfies Candidate,
    host,
    path,
  }));
  return { scored, rejected };
}
