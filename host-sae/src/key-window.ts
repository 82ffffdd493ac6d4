// The host SAE's memory of QKD keys: each key, once fetched with dec_keys, serves the sequence
// numbers 0 … N−1 of the context, action and client SAE its first use named, for T seconds after
// it was fetched, and each sequence number once. Decisions only; fetching and clocks are the caller's.
// The KME hands a key to this SAE once, so forgetting a key is safe: asking again fails at the KME.
import type { EnvelopeHeader, RejectReason } from '@mecqkd/sdk/envelope';

export interface HeldKey {
  keyId: string;
  /** Zeroed and dropped once the key is exhausted or expired; the entry stays to name the reason. */
  material: Buffer | undefined;
  fetchedAt: number;
  invocationsPerKey: number;
  binding: { contextId: string; action: string; clientSaeId: string };
  used: Uint8Array;
  usedCount: number;
}

export type Claim = { ok: true; material: Buffer } | { ok: false; reason: RejectReason; message: string };

export function holdKey(
  keyId: string,
  material: Buffer,
  header: EnvelopeHeader,
  invocationsPerKey: number,
  now: number,
): HeldKey {
  return {
    keyId,
    material,
    fetchedAt: now,
    invocationsPerKey,
    binding: { contextId: header.contextId, action: header.action, clientSaeId: header.clientSaeId },
    used: new Uint8Array(Math.ceil(invocationsPerKey / 8)),
    usedCount: 0,
  };
}

function forget(k: HeldKey): void {
  k.material?.fill(0);
  k.material = undefined;
}

export function expired(k: HeldKey, now: number, lifetimeMs: number): boolean {
  return now - k.fetchedAt >= lifetimeMs;
}

/** Marks `header.seq` used and returns the key, or says why not. */
export function claim(k: HeldKey, header: EnvelopeHeader, now: number, lifetimeMs: number): Claim {
  const b = k.binding;
  if (header.contextId !== b.contextId || header.action !== b.action || header.clientSaeId !== b.clientSaeId)
    return { ok: false, reason: 'wrong-binding', message: `key ${k.keyId} serves another context or action` };
  if (header.seq >= k.invocationsPerKey)
    return {
      ok: false,
      reason: 'sequence-exhausted',
      message: `sequence ${header.seq} is past the key's ${k.invocationsPerKey} invocations`,
    };
  const byte = header.seq >> 3;
  const bit = 1 << (header.seq & 7);
  if ((k.used[byte] ?? 0) & bit)
    return {
      ok: false,
      reason: 'replay',
      message: `sequence ${header.seq} of key ${k.keyId} was already used`,
    };
  if (expired(k, now, lifetimeMs)) forget(k);
  if (!k.material)
    return {
      ok: false,
      reason: 'key-expired',
      message: `key ${k.keyId} is past its ${lifetimeMs / 1000} s window or spent`,
    };
  const material = Buffer.from(k.material);
  k.used[byte] = (k.used[byte] ?? 0) | bit;
  k.usedCount++;
  if (k.usedCount === k.invocationsPerKey) forget(k);
  return { ok: true, material };
}

/** Whether an entry can be dropped altogether: past twice its window (replays then fail at the KME). */
export function droppable(k: HeldKey, now: number, lifetimeMs: number): boolean {
  return now - k.fetchedAt >= 2 * lifetimeMs;
}
