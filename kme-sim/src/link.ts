// One end of a simulated QKD link. Both ends keep the same account of the link's key store: it fills at the
// secret key rate up to the capacity, except during outages, and every reservation (from either end) is
// debited at both ends because each one is announced to the peer. Keys come from two per-direction streams
// (stream.ts): each end allocates offsets in the stream it originates, so the ends never need to agree on
// who takes which bits. The cursor starts at a random position so a restarted KME never reuses positions.
import { randomInt } from 'node:crypto';
import { z } from 'zod';
import type { LinkConfig } from './config.ts';
import { DEFAULT_SKR_MODEL, secretKeyRate } from './skr.ts';
import { type StreamKey, streamBytes, streamKey } from './stream.ts';

export type LinkState = 'ACTIVE' | 'PASSIVE' | 'PENDING' | 'OFF';

/** What the admin endpoint may change on a running link (applied at both ends). */
export const LinkAdjustment = z.strictObject({
  skrBitsPerSecond: z.number().min(0).optional(),
  storedBits: z.int().min(0).optional(),
  enabled: z.boolean().optional(),
});
export type LinkAdjustment = z.infer<typeof LinkAdjustment>;

const WINDOW_S = 10;
const MAX_RETRY_AFTER_S = 3600;

export class Link {
  readonly id: string;
  readonly localKme: string;
  readonly remoteKme: string;
  readonly capacityBits: number;
  readonly fibreKm: number | undefined;
  private rate: number;
  private enabled = true;
  private activatedAt: number | undefined;
  private stored = 0;
  private updatedAt = 0;
  private nextOffset = randomInt(2 ** 47);
  private consumedTotal = 0;
  /** Bits consumed per second over the last WINDOW_S seconds, for expected consumption. */
  private window = new Map<number, number>();
  private readonly outKey: StreamKey;
  private readonly inKey: StreamKey;

  constructor(
    private readonly cfg: LinkConfig,
    localKme: string,
  ) {
    const remote = cfg.kmes[0] === localKme ? cfg.kmes[1] : cfg.kmes[0];
    if (!cfg.kmes.includes(localKme)) throw new Error(`link ${cfg.id} does not end at KME ${localKme}`);
    this.id = cfg.id;
    this.localKme = localKme;
    this.remoteKme = remote;
    this.capacityBits = cfg.capacityBits;
    this.fibreKm = cfg.fibreKm;
    this.rate = cfg.skrBitsPerSecond ?? secretKeyRate(cfg.model ?? DEFAULT_SKR_MODEL, cfg.fibreKm ?? 0);
    this.outKey = streamKey(cfg.seed, cfg.id, localKme, remote);
    this.inKey = streamKey(cfg.seed, cfg.id, remote, localKme);
  }

  /** Starts key generation once the peer KME has answered; until then the link is PENDING. */
  activate(now = Date.now()): void {
    if (this.activatedAt !== undefined) return;
    this.activatedAt = now;
    this.updatedAt = now;
    this.stored = this.cfg.initialBits ?? this.cfg.capacityBits;
  }

  get active(): boolean {
    return this.activatedAt !== undefined;
  }

  private inOutage(now: number): boolean {
    if (this.activatedAt === undefined) return false;
    const t = (now - this.activatedAt) / 1000;
    return this.cfg.outages.some((o) => t >= o.startSeconds && t < o.startSeconds + o.durationSeconds);
  }

  private generating(now: number): boolean {
    return this.activatedAt !== undefined && this.enabled && this.rate > 0 && !this.inOutage(now);
  }

  /** Milliseconds of [from, to) outside scheduled outages. */
  private uptimeMs(from: number, to: number): number {
    const start = this.activatedAt ?? from;
    let up = to - from;
    for (const o of this.cfg.outages) {
      const os = start + o.startSeconds * 1000;
      const oe = os + o.durationSeconds * 1000;
      up -= Math.max(0, Math.min(to, oe) - Math.max(from, os));
    }
    return up;
  }

  /** Fills the store for the time since the last update (rate and enable change only through adjust). */
  private advance(now: number): void {
    if (this.activatedAt === undefined || now <= this.updatedAt) return;
    if (this.enabled && this.rate > 0) {
      const gained = (this.rate * this.uptimeMs(this.updatedAt, now)) / 1000;
      this.stored = Math.min(this.capacityBits, this.stored + gained);
    }
    this.updatedAt = now;
  }

  storedBits(now = Date.now()): number {
    this.advance(now);
    return Math.floor(this.stored);
  }

  skr(now = Date.now()): number {
    return this.generating(now) ? this.rate : 0;
  }

  state(now = Date.now()): LinkState {
    if (this.activatedAt === undefined) return 'PENDING';
    if (this.generating(now)) return 'ACTIVE';
    return this.storedBits(now) > 0 ? 'PASSIVE' : 'OFF';
  }

  /** Takes `bits` from the store if it holds them all; a reservation is never partly served. */
  tryDebit(bits: number, now = Date.now()): boolean {
    if (this.activatedAt === undefined) return false;
    this.advance(now);
    if (this.stored < bits) return false;
    this.stored -= bits;
    this.consumedTotal += bits;
    const second = Math.floor(now / 1000);
    this.window.set(second, (this.window.get(second) ?? 0) + bits);
    for (const s of this.window.keys()) if (s <= second - WINDOW_S) this.window.delete(s);
    return true;
  }

  /** Returns bits of a reservation that failed further along its way. */
  credit(bits: number, now = Date.now()): void {
    this.advance(now);
    this.stored = Math.min(this.capacityBits, this.stored + bits);
    this.consumedTotal -= bits;
  }

  consumedBits(): number {
    return this.consumedTotal;
  }

  /** Bits/s taken from the link over the last WINDOW_S seconds (QKD 015 expected_consumption). */
  expectedConsumption(now = Date.now()): number {
    const second = Math.floor(now / 1000);
    let sum = 0;
    for (const [s, bits] of this.window) if (s > second - WINDOW_S) sum += bits;
    return sum / WINDOW_S;
  }

  /** Seconds until `bits` could be served at the current rate (for Retry-After). */
  retryAfterSeconds(bits: number, now = Date.now()): number {
    const deficit = bits - this.storedBits(now);
    const rate = this.skr(now);
    if (rate <= 0) return 10;
    return Math.min(MAX_RETRY_AFTER_S, Math.max(1, Math.ceil(deficit / rate)));
  }

  /** Reserves `bytes` of the stream this end originates; returns the start offset. */
  allocate(bytes: number): number {
    const offset = this.nextOffset;
    this.nextOffset += bytes;
    return offset;
  }

  /** Bits this end originated at `offset` (keys it sends). */
  outgoing(offset: number, bytes: number): Buffer {
    return streamBytes(this.outKey, offset, bytes);
  }

  /** Bits the peer originated at `offset` (keys it sent us). */
  incoming(offset: number, bytes: number): Buffer {
    return streamBytes(this.inKey, offset, bytes);
  }

  adjust(change: LinkAdjustment, now = Date.now()): void {
    this.advance(now);
    if (change.skrBitsPerSecond !== undefined) this.rate = change.skrBitsPerSecond;
    if (change.enabled !== undefined) this.enabled = change.enabled;
    if (change.storedBits !== undefined) this.stored = Math.min(this.capacityBits, change.storedBits);
  }
}
