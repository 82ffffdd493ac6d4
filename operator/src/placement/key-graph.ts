// The QKD link graph and key paths over it. Links carry keys in both directions; a trusted-node relay
// consumes key on every hop, so a context's key rate is charged to each link of its path.
import type { AppDemand, LinkView } from './types.ts';

export const DEFAULT_MAX_HOPS = 3;

export interface KeyGraph {
  /** Working copies: batch placement and optimisation update committedKeyRate as they decide. */
  links: LinkView[];
  adjacency: Map<string, { peer: string; link: number }[]>;
}

export interface KeyPath {
  /** KME IDs from the client KME to the host KME (hops + 1 entries). */
  kmes: string[];
  /** Indexes into KeyGraph.links, one per hop. */
  links: number[];
  /** Bottleneck key availability; 1 for the 0-hop path (client and host share a KME). */
  keyAvailability: number;
  /** Bottleneck spare key rate in bits/s; Infinity for the 0-hop path. */
  spareKeyRate: number;
}

export function buildKeyGraph(links: LinkView[]): KeyGraph {
  const copies = links.map((l) => ({ ...l, ends: [...l.ends] as [string, string] }));
  const adjacency = new Map<string, { peer: string; link: number }[]>();
  const add = (from: string, peer: string, link: number) => {
    const list = adjacency.get(from) ?? [];
    list.push({ peer, link });
    adjacency.set(from, list);
  };
  copies.forEach((l, i) => {
    add(l.ends[0], l.ends[1], i);
    add(l.ends[1], l.ends[0], i);
  });
  return { links: copies, adjacency };
}

/** A link can carry keys at all: ACTIVE and with telemetry fresh enough to trust. */
export function linkUsable(link: LinkView): boolean {
  return link.state === 'ACTIVE' && link.fresh;
}

export function spareKeyRate(link: LinkView): number {
  return link.secretKeyRate - link.committedKeyRate;
}

/** A usable link carries one more context of this demand (with `keyMargin` of hysteresis on availability). */
export function linkCarries(
  link: LinkView,
  demand: Pick<AppDemand, 'minKeyAvailability' | 'keyRate'>,
  keyMargin = 0,
): boolean {
  return (
    linkUsable(link) &&
    link.keyAvailability >= demand.minKeyAvailability + keyMargin &&
    spareKeyRate(link) >= demand.keyRate
  );
}

interface Reach {
  prev: string | undefined;
  link: number;
  keyAvailability: number;
  spareKeyRate: number;
}

/** Paths from one KME, materialised on demand (placement asks for a few of many reachable KMEs). */
export interface KeyPaths {
  get(kme: string): KeyPath | undefined;
}

function better(a: Reach, b: Reach): boolean {
  if (a.keyAvailability !== b.keyAvailability) return a.keyAvailability > b.keyAvailability;
  if (a.spareKeyRate !== b.spareKeyRate) return a.spareKeyRate > b.spareKeyRate;
  return (a.prev as string) < (b.prev as string);
}

/**
 * The best path from `from` to every KME reachable over links accepted by `usable` within `maxHops`:
 * fewest hops first, then highest bottleneck key availability, then highest bottleneck spare key rate.
 * Layered BFS: the best bottleneck over shortest paths to a node extends the best one to a node one
 * layer closer, so one pass per layer is exact.
 */
export function keyPaths(
  graph: KeyGraph,
  from: string,
  usable: (link: LinkView) => boolean,
  maxHops = DEFAULT_MAX_HOPS,
): KeyPaths {
  const reach = new Map<string, Reach>([
    [from, { prev: undefined, link: -1, keyAvailability: 1, spareKeyRate: Number.POSITIVE_INFINITY }],
  ]);
  let frontier = [from];
  for (let hop = 1; hop <= maxHops && frontier.length > 0; hop++) {
    const layer = new Map<string, Reach>();
    for (const kme of frontier) {
      const prefix = reach.get(kme) as Reach;
      for (const { peer, link } of graph.adjacency.get(kme) ?? []) {
        if (reach.has(peer)) continue;
        const l = graph.links[link] as LinkView;
        if (!usable(l)) continue;
        const next: Reach = {
          prev: kme,
          link,
          keyAvailability: Math.min(prefix.keyAvailability, l.keyAvailability),
          spareKeyRate: Math.min(prefix.spareKeyRate, spareKeyRate(l)),
        };
        const current = layer.get(peer);
        if (!current || better(next, current)) layer.set(peer, next);
      }
    }
    for (const [kme, r] of layer) reach.set(kme, r);
    frontier = [...layer.keys()];
  }
  return {
    get(kme) {
      const end = reach.get(kme);
      if (!end) return undefined;
      const kmes = [kme];
      const links: number[] = [];
      for (let r = end; r.prev !== undefined; r = reach.get(r.prev) as Reach) {
        kmes.push(r.prev);
        links.push(r.link);
      }
      return {
        kmes: kmes.reverse(),
        links: links.reverse(),
        keyAvailability: end.keyAvailability,
        spareKeyRate: end.spareKeyRate,
      };
    },
  };
}

/** The path a context already holds, re-evaluated on current telemetry; undefined if a hop has no link. */
export function pathOver(graph: KeyGraph, kmes: string[]): KeyPath | undefined {
  const path: KeyPath = {
    kmes,
    links: [],
    keyAvailability: 1,
    spareKeyRate: Number.POSITIVE_INFINITY,
  };
  for (let i = 1; i < kmes.length; i++) {
    const hop = linkBetween(graph, kmes[i - 1] as string, kmes[i] as string);
    if (hop === undefined) return undefined;
    const l = graph.links[hop] as LinkView;
    path.links.push(hop);
    path.keyAvailability = Math.min(path.keyAvailability, linkUsable(l) ? l.keyAvailability : 0);
    path.spareKeyRate = Math.min(path.spareKeyRate, spareKeyRate(l));
  }
  return path;
}

/** The link between two KMEs; with parallel links, the usable one with the most stored key. */
function linkBetween(graph: KeyGraph, a: string, b: string): number | undefined {
  let found: number | undefined;
  for (const { peer, link } of graph.adjacency.get(a) ?? []) {
    if (peer !== b) continue;
    const l = graph.links[link] as LinkView;
    const f = found === undefined ? undefined : (graph.links[found] as LinkView);
    const rank = (x: LinkView) => (linkUsable(x) ? 1 + x.keyAvailability : 0);
    if (!f || rank(l) > rank(f)) found = link;
  }
  return found;
}

/** Adds (or with a negative rate, releases) a context's key rate on every hop of its path. */
export function commit(graph: KeyGraph, path: KeyPath, keyRate: number): void {
  for (const i of path.links) {
    const l = graph.links[i] as LinkView;
    l.committedKeyRate = Math.max(0, l.committedKeyRate + keyRate);
  }
}
