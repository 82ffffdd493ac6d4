// Builders and random instances for placement tests.
import type { Rng } from '../../src/placement/rng.ts';
import type { AppDemand, HostView, LinkView, PlacementRequest } from '../../src/placement/types.ts';

export function host(name: string, over: Partial<HostView> = {}): HostView {
  return {
    name,
    ready: true,
    labels: {},
    kmeId: `kme-${name}`,
    load: 0,
    contexts: 0,
    memoryMb: 2048,
    ...over,
  };
}

export function link(a: string, b: string, over: Partial<LinkView> = {}): LinkView {
  return {
    name: `${a}--${b}`,
    ends: [a, b],
    state: 'ACTIVE',
    keyAvailability: 1,
    secretKeyRate: 1_000_000,
    committedKeyRate: 0,
    fresh: true,
    ...over,
  };
}

export function demand(over: Partial<AppDemand> = {}): AppDemand {
  return { app: 'risk', maxLoad: 0.8, minKeyAvailability: 0.2, keyRate: 1000, loadPerContext: 0.05, ...over };
}

export function request(context: string, over: Partial<PlacementRequest> = {}): PlacementRequest {
  return { context, clientKmeId: 'kme-client', demand: demand(), ...over };
}

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)] as T;

/** Hosts, a relay layer and links with random state, availability and spare key rate. */
export function randomInstance(rng: Rng, opts: { hosts?: number; relays?: number } = {}) {
  const hostCount = opts.hosts ?? 2 + Math.floor(rng() * 8);
  const relays = Array.from({ length: opts.relays ?? Math.floor(rng() * 3) }, (_, i) => `kme-relay-${i}`);
  const hosts = Array.from({ length: hostCount }, (_, i) =>
    host(`h${i}`, {
      ready: rng() > 0.1,
      labels: { zone: pick(rng, ['a', 'b']) },
      load: rng() * 0.9,
      contexts: Math.floor(rng() * 5),
      ...(rng() > 0.7 ? { maxContexts: 1 + Math.floor(rng() * 6) } : {}),
    }),
  );
  const kmes = ['kme-client', ...relays, ...hosts.map((h) => h.kmeId)];
  const links: LinkView[] = [];
  for (let i = 0; i < kmes.length; i++)
    for (let j = i + 1; j < kmes.length; j++) {
      if (rng() > 0.45) continue;
      const skr = 2000 + rng() * 20_000;
      links.push(
        link(kmes[i] as string, kmes[j] as string, {
          state: rng() > 0.1 ? 'ACTIVE' : pick(rng, ['PASSIVE', 'PENDING', 'OFF'] as const),
          fresh: rng() > 0.05,
          keyAvailability: rng(),
          secretKeyRate: skr,
          committedKeyRate: rng() * skr,
        }),
      );
    }
  return { hosts, links };
}

export function randomDemand(rng: Rng, app = 'app'): AppDemand {
  return demand({
    app,
    maxLoad: 0.5 + rng() * 0.5,
    minKeyAvailability: rng() * 0.5,
    keyRate: 100 + rng() * 4000,
    loadPerContext: 0.01 + rng() * 0.1,
    ...(rng() > 0.7 ? { hostSelector: { zone: pick(rng, ['a', 'b']) } } : {}),
  });
}
