// The normalised values both providers compute, so Prometheus and the direct scrape agree:
// - host load = Σ gauge_loadbalancer_memoryManagedInflight_counter / Σ gauge_loadbalancer_totalCapacityManaged_counter,
//   clamped to [0,1] (memory of accepted, unfinished activations, queued ones included, over user memory);
// - a QKD link's figures from the kme_link_* gauges of either end KME (kme_id / peer_kme_id), combined
//   pessimistically when both ends report: the worse state, the smaller numbers.

import type { Series } from '@mecqkd/common/exposition';
import type { LinkState } from '@mecqkd/crds';
import type { LinkTarget } from './targets.ts';
import type { LinkSample } from './types.ts';

export const INFLIGHT_MEMORY = 'gauge_loadbalancer_memoryManagedInflight_counter';
export const CAPACITY_MEMORY = 'gauge_loadbalancer_totalCapacityManaged_counter';
/** kme-sim's default key size; QkdLink status counts keys of this size. */
export const DEFAULT_KEY_SIZE_BITS = 256;

export function hostLoad(series: readonly Series[]): number | undefined {
  let inflight = 0;
  let capacity = 0;
  let seen = false;
  for (const s of series) {
    if (s.name === INFLIGHT_MEMORY) inflight += s.value;
    else if (s.name === CAPACITY_MEMORY) {
      capacity += s.value;
      seen = true;
    }
  }
  if (!seen || !(capacity > 0)) return undefined;
  return Math.min(1, Math.max(0, inflight / capacity));
}

/** One end KME's view of one link. */
export interface LinkReading {
  kmeId: string;
  peerKmeId: string;
  state?: LinkState;
  secretKeyRate?: number;
  storedBits?: number;
  capacityBits?: number;
  keyAvailability?: number;
}

type Numeric = 'secretKeyRate' | 'storedBits' | 'capacityBits' | 'keyAvailability';
const GAUGES: Record<string, Numeric> = {
  kme_link_secret_key_rate_bits_per_second: 'secretKeyRate',
  kme_link_stored_bits: 'storedBits',
  kme_link_capacity_bits: 'capacityBits',
  kme_link_key_availability: 'keyAvailability',
};
const STATES: LinkState[] = ['OFF', 'PENDING', 'PASSIVE', 'ACTIVE'];

/** Readings from kme_link_* series (a KME's /metrics, or raw Prometheus series). */
export function linkReadings(series: readonly Series[]): LinkReading[] {
  const byEnd = new Map<string, LinkReading>();
  const reading = (s: Series) => {
    const kmeId = s.labels.kme_id;
    const peerKmeId = s.labels.peer_kme_id;
    if (kmeId === undefined || peerKmeId === undefined) return undefined;
    const key = `${kmeId}\n${peerKmeId}`;
    const r = byEnd.get(key) ?? { kmeId, peerKmeId };
    byEnd.set(key, r);
    return r;
  };
  for (const s of series) {
    const field = GAUGES[s.name];
    if (field) {
      const r = reading(s);
      if (r) r[field] = Math.min(r[field] ?? Number.POSITIVE_INFINITY, s.value);
    } else if (s.name === 'kme_link_state' && s.value === 1) {
      const r = reading(s);
      const state = s.labels.state as LinkState;
      if (r && STATES.includes(state)) r.state = worse(r.state, state);
    }
  }
  return [...byEnd.values()];
}

function worse(a: LinkState | undefined, b: LinkState): LinkState {
  return a === undefined || STATES.indexOf(b) < STATES.indexOf(a) ? b : a;
}

export function linkSample(
  target: LinkTarget,
  readings: readonly LinkReading[],
  time: number,
  source: LinkSample['source'],
  keySizeBits = DEFAULT_KEY_SIZE_BITS,
): LinkSample | undefined {
  const [a, b] = target.ends.map((e) => e.kmeId) as [string, string];
  const ends = readings.filter(
    (r) => (r.kmeId === a && r.peerKmeId === b) || (r.kmeId === b && r.peerKmeId === a),
  );
  const min = (field: Numeric) => {
    const values = ends
      .map((r) => r[field])
      .filter((v): v is number => v !== undefined && Number.isFinite(v));
    return values.length ? Math.min(...values) : undefined;
  };
  const keyAvailability = min('keyAvailability');
  if (keyAvailability === undefined) return undefined;
  let state: LinkState | undefined;
  for (const r of ends) if (r.state) state = worse(state, r.state);
  return {
    link: target.link,
    state: state ?? 'OFF',
    secretKeyRate: min('secretKeyRate') ?? 0,
    storedKeys: Math.floor((min('storedBits') ?? 0) / keySizeBits),
    capacityKeys: Math.floor((min('capacityBits') ?? 0) / keySizeBits),
    keyAvailability: Math.min(1, Math.max(0, keyAvailability)),
    time,
    source,
  };
}
