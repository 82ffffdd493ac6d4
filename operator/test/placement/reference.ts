// A deliberately naive feasibility oracle for property tests: enumerates every simple path, independent of
// the layered search in key-graph.ts.
import { hostInLocation } from '@mecqkd/crds/location';
import type { AppDemand, HostView, LinkView, PlacementRequest } from '../../src/placement/types.ts';

export interface Route {
  kmes: string[];
  links: LinkView[];
}

export function allPaths(
  links: readonly LinkView[],
  from: string,
  to: string,
  maxHops: number,
  ok: (l: LinkView) => boolean,
): Route[] {
  const out: Route[] = [];
  const walk = (route: Route) => {
    const at = route.kmes.at(-1) as string;
    if (at === to) {
      out.push(route);
      return;
    }
    if (route.links.length === maxHops) return;
    for (const l of links) {
      if (!ok(l) || !l.ends.includes(at)) continue;
      const next = l.ends[0] === at ? l.ends[1] : l.ends[0];
      if (route.kmes.includes(next)) continue;
      walk({ kmes: [...route.kmes, next], links: [...route.links, l] });
    }
  };
  walk({ kmes: [from], links: [] });
  return out;
}

export const carries = (d: AppDemand) => (l: LinkView) =>
  l.state === 'ACTIVE' &&
  l.fresh &&
  l.keyAvailability >= d.minKeyAvailability &&
  l.secretKeyRate - l.committedKeyRate >= d.keyRate;

export function hostFeasible(
  r: PlacementRequest,
  h: HostView,
  links: readonly LinkView[],
  maxHops = 3,
): boolean {
  const d = r.demand;
  return (
    h.ready &&
    Object.entries(d.hostSelector ?? {}).every(([k, v]) => h.labels[k] === v) &&
    hostInLocation(h.location, d.appLocation, r.requestedLocation) &&
    h.load + d.loadPerContext <= d.maxLoad &&
    (h.maxContexts === undefined || h.contexts < h.maxContexts) &&
    allPaths(links, r.clientKmeId, h.kmeId, maxHops, carries(d)).length > 0
  );
}
