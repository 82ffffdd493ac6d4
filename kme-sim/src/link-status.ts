// A link end's status in ETSI GS QKD 015 vocabulary (etsi-qkd-sdn-node.yang: qkdl_status, qkdl_type,
// qkdl_performance/skr, expected_consumption), plus stock figures in QKD 014 terms. Served as JSON at
// GET /mecqkd/v1/links for the operator; keys never appear here.
import { z } from 'zod';
import type { Link } from './link.ts';

export const LinkStatus = z.object({
  id: z.string(),
  localKmeId: z.string(),
  remoteKmeId: z.string(),
  type: z.enum(['PHYS', 'VIRT']),
  status: z.enum(['ACTIVE', 'PASSIVE', 'PENDING', 'OFF']),
  /** Secret key rate now, bits/s (0 while not generating). */
  skr: z.number(),
  /** Bits/s consumed over the last 10 s. */
  expectedConsumption: z.number(),
  storedBits: z.int(),
  capacityBits: z.int(),
  /** In keys of the KME's default key_size, as QKD 014 Status counts them. */
  storedKeyCount: z.int(),
  maxKeyCount: z.int(),
  /** storedBits / capacityBits, in [0, 1]. */
  keyAvailability: z.number().min(0).max(1),
  fibreKm: z.number().optional(),
});
export type LinkStatus = z.infer<typeof LinkStatus>;

export const LinksResponse = z.object({ kmeId: z.string(), links: z.array(LinkStatus) });
export type LinksResponse = z.infer<typeof LinksResponse>;

export function linkStatus(link: Link, keySize: number, now = Date.now()): LinkStatus {
  const status = link.state(now);
  const storedBits = status === 'PENDING' ? 0 : link.storedBits(now);
  const maxKeyCount = Math.floor(link.capacityBits / keySize);
  return {
    id: link.id,
    localKmeId: link.localKme,
    remoteKmeId: link.remoteKme,
    type: 'PHYS',
    status,
    skr: link.skr(now),
    expectedConsumption: link.expectedConsumption(now),
    storedBits,
    capacityBits: link.capacityBits,
    storedKeyCount: Math.min(maxKeyCount, Math.floor(storedBits / keySize)),
    maxKeyCount,
    keyAvailability: Math.min(1, storedBits / link.capacityBits),
    ...(link.fibreKm === undefined ? {} : { fibreKm: link.fibreKm }),
  };
}
