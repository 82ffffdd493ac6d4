// The simulated world: MEC hosts with CPU capacity, QKD links whose secret key rate follows the
// fibre-length model of ../shared/docs/placement.md, and an app catalogue with heterogeneous CPU load
// and key rate. Everything is drawn from one seeded generator, so an instance is its seed.
import { type Rng, seededRng } from '@mecqkd/operator/placement/rng';

export const CLIENT_KME = 'kme-client';

export interface SimHost {
  name: string;
  kmeId: string;
  /** CPU units (the doc's U(3,7)). */
  capacity: number;
}

export interface SimLink {
  name: string;
  ends: [string, string];
  lengthKm: number;
  /** Nominal secret key rate, bits/s. */
  secretKeyRate: number;
}

export interface App {
  name: string;
  /** CPU units one context uses. */
  cpu: number;
  /** Key bits/s one context draws on every hop of its path. */
  keyRate: number;
  maxLoad: number;
  minKeyAvailability: number;
}

export interface Instance {
  hosts: SimHost[];
  links: SimLink[];
  apps: App[];
}

export type Topology = 'direct' | 'relayed';

/** SKR(L) = 133 kb/s · e^(−0.0609·L): ccicconetti/queer experiment 007, as quoted in placement.md. */
export function secretKeyRate(lengthKm: number): number {
  return 133_000 * Math.exp(-0.0609 * lengthKm);
}

export const uniform = (rng: Rng, lo: number, hi: number) => lo + (hi - lo) * rng();
const logUniform = (rng: Rng, lo: number, hi: number) => lo * (hi / lo) ** rng();

/** MecApp defaults (crds/src/kinds/mecapp.ts): maxLoad 0.8, minKeyAvailability 0.1. */
export const APP_DEFAULTS = { maxLoad: 0.8, minKeyAvailability: 0.1 } as const;

/**
 * Heavy-tailed apps: CPU log-uniform on [0.008, 1] (125× spread), key rate log-uniform on
 * [1, 8] kb/s (8× spread), as in the doc's scenario adapted from the authors' online experiments.
 */
export function appCatalogue(rng: Rng, count: number): App[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `app-${i}`,
    cpu: logUniform(rng, 0.008, 1),
    keyRate: logUniform(rng, 1000, 8000),
    ...APP_DEFAULTS,
  }));
}

function link(a: string, b: string, lengthKm: number): SimLink {
  return { name: `${a}--${b}`, ends: [a, b], lengthKm, secretKeyRate: secretKeyRate(lengthKm) };
}

/**
 * Direct: one link client → host per host. Relayed: a chain of trusted relays from the client KME;
 * host i hangs off the client (1 hop), relay 1 (2 hops) or relay 2 (3 hops) in turn, so relayed
 * paths share the chain's links and pay their key rate on every hop.
 */
export function generateInstance(seed: number, hostCount: number, topology: Topology, apps = 12): Instance {
  const rng = seededRng(seed * 7919 + hostCount * 31 + (topology === 'relayed' ? 1 : 0));
  const hosts = Array.from({ length: hostCount }, (_, i) => ({
    name: `h${i}`,
    kmeId: `kme-h${i}`,
    capacity: uniform(rng, 3, 7),
  }));
  const links: SimLink[] = [];
  const km = () => uniform(rng, 5, 50);
  if (topology === 'direct') for (const h of hosts) links.push(link(CLIENT_KME, h.kmeId, km()));
  else {
    const chain = [CLIENT_KME, 'kme-relay-1', 'kme-relay-2'];
    for (let i = 1; i < chain.length; i++) links.push(link(chain[i - 1] as string, chain[i] as string, km()));
    hosts.forEach((h, i) => {
      links.push(link(chain[i % chain.length] as string, h.kmeId, km()));
    });
  }
  return { hosts, links, apps: appCatalogue(rng, apps) };
}
