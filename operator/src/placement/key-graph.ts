// The QKD link graph and key paths over it. Links carry keys in both directions; a trusted-node relay
// consumes key on every hop, so a context's key rate is charged to each link of its path.
import type { AppDemand, LinkView } from './types.ts';

export const DEFAULT_MAX_HOPS = 3;

export interface KeyGraph {
  /** Working copies: batch placement and optimisation update committedKeyRate as they decide. */
  links: LinkView[];
  /** KME IDs by index, and back: searches run over indexes (placement runs one per request). */
  kmes: string[];
  index: Map<string, number>;
  adjacency: { peer: number; link: number }[][];
  /** Feasible-path searches by demand, valid while no link changes usability for that demand. */
  cache: Map<string, { keyRate: number; paths: KeyPaths }>;
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
  const graph: KeyGraph = { links: [], kmes: [], index: new Map(), adjacency: [], cache: new Map() };
  const kme = (id: string) => {
    let i = graph.index.get(id);
    if (i === undefined) {
      i = graph.kmes.push(id) - 1;
      graph.index.set(id, i);
      graph.adjacency.push([]);
    }
    return i;
  };
  links.forEach((l, i) => {
    graph.links.push({ ...l, ends: [...l.ends] });
    const [a, b] = [kme(l.ends[0]), kme(l.ends[1])];
    graph.adjacency[a]?.push({ peer: b, link: i });
    graph.adjacency[b]?.push({ peer: a, link: i });
  });
  return graph;
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

/** Paths from one KME, materialised on demand (placement asks for a few of many reachable KMEs). */
export interface KeyPaths {
  get(kme: string): KeyPath | undefined;
}

/**
 * The best path from `from` to every KME reachable over links accepted by `usable` within `maxHops`:
 * fewest hops first, then highest bottleneck key availability, then the smallest previous KME ID.
 * Layered BFS: the best bottleneck over shortest paths to a node extends the best one to a node one
 * layer closer, so one pass per layer is exact. Spare key rates are read when a path is materialised,
 * so a search stays valid while the set of usable links is unchanged.
 */
export function keyPaths(
  graph: KeyGraph,
  from: string,
  usable: (link: LinkView) => boolean,
  maxHops = DEFAULT_MAX_HOPS,
): KeyPaths {
  const n = graph.kmes.length;
  const hops = new Int32Array(n).fill(-1);
  const prev = new Int32Array(n).fill(-1);
  const via = new Int32Array(n).fill(-1);
  const avail = new Float64Array(n);
  const start = graph.index.get(from);
  if (start !== undefined) {
    hops[start] = 0;
    avail[start] = 1;
    let frontier = [start];
    for (let hop = 1; hop <= maxHops && frontier.length > 0; hop++) {
      const next: number[] = [];
      for (const u of frontier) {
        for (const { peer: v, link } of graph.adjacency[u] as { peer: number; link: number }[]) {
          const reached = hops[v] as number;
          if (reached !== -1 && reached < hop) continue;
          const l = graph.links[link] as LinkView;
          if (!usable(l)) continue;
          const a = Math.min(avail[u] as number, l.keyAvailability);
          if (reached === -1) next.push(v);
          else {
            const av = avail[v] as number;
            const better =
              a !== av ? a > av : (graph.kmes[u] as string) < (graph.kmes[prev[v] as number] as string);
            if (!better) continue;
          }
          hops[v] = hop;
          prev[v] = u;
          via[v] = link;
          avail[v] = a;
        }
      }
      frontier = next;
    }
  }
  return {
    get(kme) {
      const end = graph.index.get(kme);
      if (end === undefined || start === undefined) {
        // A KME on no link at all is reachable only from itself.
        return kme === from
          ? { kmes: [kme], links: [], keyAvailability: 1, spareKeyRate: Number.POSITIVE_INFINITY }
          : undefined;
      }
      if (hops[end] === -1) return undefined;
      const kmes: string[] = [];
      const links: number[] = [];
      let spare = Number.POSITIVE_INFINITY;
      for (let v = end; v !== start; v = prev[v] as number) {
        kmes.push(graph.kmes[v] as string);
        const link = via[v] as number;
        links.push(link);
        spare = Math.min(spare, spareKeyRate(graph.links[link] as LinkView));
      }
      kmes.push(from);
      return {
        kmes: kmes.reverse(),
        links: links.reverse(),
        keyAvailability: avail[end] as number,
        spareKeyRate: spare,
      };
    },
  };
}

const CACHE_LIMIT = 64;

/** Paths on which every hop carries one more context of `demand` (memoised per demand, see commit). */
export function feasiblePaths(
  graph: KeyGraph,
  from: string,
  demand: Pick<AppDemand, 'minKeyAvailability' | 'keyRate'>,
  keyMargin: number,
  maxHops: number,
): KeyPaths {
  const key = `${from}\n${demand.minKeyAvailability + keyMargin}\n${demand.keyRate}\n${maxHops}`;
  let hit = graph.cache.get(key);
  if (!hit) {
    if (graph.cache.size >= CACHE_LIMIT) graph.cache.clear();
    hit = {
      keyRate: demand.keyRate,
      paths: keyPaths(graph, from, (l) => linkCarries(l, demand, keyMargin), maxHops),
    };
    graph.cache.set(key, hit);
  }
  return hit.paths;
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
  const [ia, ib] = [graph.index.get(a), graph.index.get(b)];
  if (ia === undefined || ib === undefined) return undefined;
  let found: number | undefined;
  for (const { peer, link } of graph.adjacency[ia] ?? []) {
    if (peer !== ib) continue;
    const l = graph.links[link] as LinkView;
    const f = found === undefined ? undefined : (graph.links[found] as LinkView);
    const rank = (x: LinkView) => (linkUsable(x) ? 1 + x.keyAvailability : 0);
    if (!f || rank(l) > rank(f)) found = link;
  }
  return found;
}

/**
 * The share of its secret key rate the path's tightest hop has spare once `keyRate` more is drawn over
 * it, in [0,1]; 1 for a path of no hop, 0 for a hop that makes no key.
 */
export function keyHeadroom(graph: KeyGraph, path: Pick<KeyPath, 'links'>, keyRate: number): number {
  let share = 1;
  for (const i of path.links) {
    const l = graph.links[i] as LinkView;
    share = Math.min(share, l.secretKeyRate > 0 ? (spareKeyRate(l) - keyRate) / l.secretKeyRate : 0);
  }
  return Math.max(0, share);
}

/** Adds (or with a negative rate, releases) a context's key rate on every hop of its path. */
export function commit(graph: KeyGraph, path: KeyPath, keyRate: number): void {
  for (const i of path.links) {
    const l = graph.links[i] as LinkView;
    const before = spareKeyRate(l);
    l.committedKeyRate = Math.max(0, l.committedKeyRate + keyRate);
    const after = spareKeyRate(l);
    // Searches for demands whose view of this link flipped (usable ↔ not) are no longer valid.
    for (const [key, entry] of graph.cache)
      if (before >= entry.keyRate !== after >= entry.keyRate) graph.cache.delete(key);
  }
}
