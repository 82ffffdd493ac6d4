// The per-SAE key quota of a KME: how fast one master SAE may take key bits out of the stores its
// requests draw on, so that one SAE cannot drain a QKD link that other SAEs share. Its terms are QKD
// 015's `app_qos/max_bandwidth` ("exceeding this value will raise an error from the local key store
// to the application") plus a burst, which 015 leaves to the key store. The numbers come from the
// MecApp's declared demand (sdk/src/key-allowance.ts `saeKeyQuota`), written into the KME's config
// where client SAEs are provisioned, and an admin may change them at run time.
//
// The decision is a token bucket in bits: it fills at maxBandwidth up to burstBits, and a request
// for number × size bits is served only when the bucket holds them all. A bucket rather than the
// host SAE's GCRA because requests cost different amounts and an admin may change the rate: the
// bucket keeps what it holds and is clipped to the new burst. The state is in memory, per KME
// process, like the link stores it protects: a restarted KME starts every SAE with a full bucket.
import { z } from 'zod';

export const AppQos = z.strictObject({
  /** QKD 015 app_qos/max_bandwidth (uint32): key bits per second the SAE may take. */
  maxBandwidth: z.int().min(1).max(0xffff_ffff),
  /** Key bits the SAE may take at once after a quiet spell. */
  burstBits: z.int().min(1),
});
export type AppQos = z.infer<typeof AppQos>;

/** The admin endpoint's view of one SAE's quota (null: none). */
export const SaeQos = z.object({ saeId: z.string(), appQos: AppQos.nullable() });
export type SaeQos = z.infer<typeof SaeQos>;
/** What an admin POSTs to set (or, with null, lift) an SAE's quota. */
export const SaeQosChange = z.strictObject({ appQos: AppQos.nullable() });
export type SaeQosChange = z.infer<typeof SaeQosChange>;

/** Why a quota could never serve a request of the KME's default key size, or undefined when it can. */
export function appQosProblem(q: AppQos, keySize: number): string | undefined {
  return q.burstBits < keySize
    ? `burstBits (${q.burstBits}) must be at least the KME's key_size (${keySize} bits), or no key fits`
    : undefined;
}

export interface Bucket {
  bits: number;
  /** ms */
  at: number;
}

export type QuotaDecision = { ok: true; bucket: Bucket } | { ok: false; retryAfterMs: number };

const level = (b: Bucket | undefined, now: number, q: AppQos) =>
  b === undefined
    ? q.burstBits
    : Math.min(q.burstBits, b.bits + (Math.max(0, now - b.at) * q.maxBandwidth) / 1000);

/** Whether `bits` fit at `now` (ms); past the quota, how long until they will (never when > burst). */
export function takeBits(b: Bucket | undefined, now: number, q: AppQos, bits: number): QuotaDecision {
  const have = level(b, now, q);
  if (bits > have) return { ok: false, retryAfterMs: Math.ceil(((bits - have) * 1000) / q.maxBandwidth) };
  return { ok: true, bucket: { bits: have - bits, at: now } };
}

export type Charge =
  | { ok: true; refund(): void }
  | { ok: false; qos: AppQos; retryAfterMs: number }
  | { ok: false; qos: AppQos; tooLarge: true };

/** The quotas of one KME's SAEs, by SAE ID; an SAE without one takes key as its links allow. */
export class SaeQuotas {
  private readonly entries = new Map<string, { qos: AppQos; bucket: Bucket | undefined }>();

  constructor(
    initial: Iterable<[string, AppQos]>,
    private readonly now: () => number = Date.now,
  ) {
    for (const [sae, qos] of initial) this.entries.set(sae, { qos, bucket: undefined });
  }

  get(sae: string): AppQos | undefined {
    return this.entries.get(sae)?.qos;
  }

  /** A new quota (or none); what the SAE's bucket holds is kept, up to the new burst. */
  set(sae: string, qos: AppQos | undefined): void {
    const e = this.entries.get(sae);
    if (qos === undefined) {
      this.entries.delete(sae);
      return;
    }
    const at = this.now();
    const bits = e ? Math.min(qos.burstBits, level(e.bucket, at, e.qos)) : qos.burstBits;
    this.entries.set(sae, { qos, bucket: { bits, at } });
  }

  /** Takes `bits` from `sae`'s bucket; `refund` gives them back when the request fails later. */
  charge(sae: string, bits: number): Charge {
    const e = this.entries.get(sae);
    if (!e) return { ok: true, refund: () => {} };
    if (bits > e.qos.burstBits) return { ok: false, qos: e.qos, tooLarge: true };
    const d = takeBits(e.bucket, this.now(), e.qos, bits);
    if (!d.ok) return { ok: false, qos: e.qos, retryAfterMs: d.retryAfterMs };
    e.bucket = d.bucket;
    return {
      ok: true,
      refund: () => {
        const now = this.now();
        const cur = this.entries.get(sae);
        if (cur?.bucket)
          cur.bucket = { bits: Math.min(cur.qos.burstBits, level(cur.bucket, now, cur.qos) + bits), at: now };
      },
    };
  }
}
