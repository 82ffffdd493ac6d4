// Who is where: which KME each SAE uses, how certificate names map to SAE IDs, and the route (shortest
// path over QKD links) from one KME to another for trusted-node relay.
import type { Config, KmeConfig, LinkConfig } from './config.ts';

export interface Topology {
  kme(id: string): KmeConfig | undefined;
  /** KME ID of the KME the SAE is attached to. */
  kmeOfSae(saeId: string): string | undefined;
  /** IDs of the SAEs attached to `kmeId`. */
  saesOf(kmeId: string): string[];
  /** Every SAE ID of the topology. */
  saes(): string[];
  /** SAE ID for a client certificate CN presented at `kmeId`, if that SAE belongs to that KME. */
  saeForCommonName(kmeId: string, commonName: string): string | undefined;
  /** KMEs from `from` to `to` inclusive, fewest hops first; undefined when not connected. */
  route(from: string, to: string): string[] | undefined;
  /** The link joining two adjacent KMEs. */
  linkBetween(a: string, b: string): LinkConfig | undefined;
  linksOf(kmeId: string): LinkConfig[];
}

export function createTopology(config: Config): Topology {
  const kmes = new Map(config.kmes.map((k) => [k.id, k]));
  const saeKme = new Map<string, string>();
  const byCommonName = new Map<string, string>();
  for (const k of config.kmes) {
    for (const s of k.saes) {
      saeKme.set(s.id, k.id);
      byCommonName.set(`${k.id}\n${s.certCommonName ?? s.id}`, s.id);
    }
  }
  const neighbours = new Map<string, string[]>();
  const links = new Map<string, LinkConfig>();
  for (const l of config.links) {
    const [a, b] = l.kmes;
    neighbours.set(a, [...(neighbours.get(a) ?? []), b]);
    neighbours.set(b, [...(neighbours.get(b) ?? []), a]);
    links.set(`${a}\n${b}`, l);
    links.set(`${b}\n${a}`, l);
  }
  const routes = new Map<string, string[] | undefined>();

  function bfs(from: string, to: string): string[] | undefined {
    const previous = new Map<string, string>([[from, from]]);
    const queue = [from];
    while (queue.length > 0) {
      const at = queue.shift() as string;
      if (at === to) {
        const path = [to];
        while (path[0] !== from) path.unshift(previous.get(path[0] as string) as string);
        return path;
      }
      for (const n of neighbours.get(at) ?? []) {
        if (!previous.has(n)) {
          previous.set(n, at);
          queue.push(n);
        }
      }
    }
    return undefined;
  }

  return {
    kme: (id) => kmes.get(id),
    kmeOfSae: (saeId) => saeKme.get(saeId),
    saesOf: (kmeId) => kmes.get(kmeId)?.saes.map((s) => s.id) ?? [],
    saes: () => [...saeKme.keys()],
    saeForCommonName: (kmeId, cn) => byCommonName.get(`${kmeId}\n${cn}`),
    route(from, to) {
      const key = `${from}\n${to}`;
      if (!routes.has(key)) routes.set(key, bfs(from, to));
      return routes.get(key);
    },
    linkBetween: (a, b) => links.get(`${a}\n${b}`),
    linksOf: (kmeId) => config.links.filter((l) => l.kmes.includes(kmeId)),
  };
}
