// The architecture's local topology (shared/docs/architecture.md): a client-side KME and one KME per MEC host,
// each with its SAE, for the operator's tests and `make demo`. Host 2 is reached directly or through a
// trusted relay node (the multi-hop case).
import type { TestbedSpec } from './testbed.ts';

export const MEC_SAES = { client: 'sae-client', host1: 'sae-host-1', host2: 'sae-host-2' } as const;
export const MEC_KMES = {
  client: 'kme-client',
  host1: 'kme-host-1',
  host2: 'kme-host-2',
  relay: 'kme-relay',
} as const;

export interface MecTopologyOptions {
  /** `relay`: client–relay–host-2 instead of a direct client–host-2 link. Default `direct`. */
  host2Via?: 'direct' | 'relay';
  /** Fibre lengths in km (rates from the default model); defaults 10 (host 1) and 40 (host 2 and relay hops). */
  host1Km?: number;
  host2Km?: number;
  /** One process per KME instead of one for all (slower to start, closer to real deployment). */
  processPerKme?: boolean;
}

export function mecTopology(opts: MecTopologyOptions = {}): TestbedSpec {
  const { client, host1, host2, relay } = MEC_KMES;
  const group = opts.processPerKme ? {} : { process: 'kme-sim' };
  const viaRelay = opts.host2Via === 'relay';
  const host2Km = opts.host2Km ?? 40;
  return {
    kmes: [
      { id: client, saes: [MEC_SAES.client], ...group },
      { id: host1, saes: [MEC_SAES.host1], ...group },
      { id: host2, saes: [MEC_SAES.host2], ...group },
      ...(viaRelay ? [{ id: relay, saes: [], ...group }] : []),
    ],
    links: [
      { kmes: [client, host1], fibreKm: opts.host1Km ?? 10 },
      ...(viaRelay
        ? [
            { kmes: [client, relay] as [string, string], fibreKm: host2Km / 2 },
            { kmes: [relay, host2] as [string, string], fibreKm: host2Km / 2 },
          ]
        : [{ kmes: [client, host2] as [string, string], fibreKm: host2Km }]),
    ],
  };
}
