// The host SAE's memory of QKD keys: each key, once fetched with dec_keys, serves the sequence
// numbers 0 … N−1 of the context, action and client SAE its first use named, for T seconds after
// it was fetched, and each sequence number once. Decisions only; fetching and clocks are the caller's.
// The KME hands a key to this SAE once, so forgetting a key is safe: asking again fails at the KME.
// A wrapper connection may also be handed the derived keys of the next sequence numbers ahead
// (`reserve`): they count as claimed, held by that one connection, which reports each one it takes
// (`spend`) before using it. When another container needs one, the holder is asked which it has not
// used (`release`); when the holder goes away, those it never reported are served again (`dropHolder`).
import { deriveKeyPair, type EnvelopeHeader, type RejectReason } from '@mecqkd/sdk/envelope';

export interface KeyPair {
  request: Buffer;
  response: Buffer;
}

/** Derived keys handed ahead; `holder` is the connection holding them, undefined once released unused. */
interface Ahead {
  keys: KeyPair;
  holder: object | undefined;
}

export interface HeldKey {
  keyId: string;
  /** Zeroed and dropped once the key is exhausted or expired; the entry stays to name the reason. */
  material: Buffer | undefined;
  fetchedAt: number;
  invocationsPerKey: number;
  binding: { contextId: string; action: string; clientSaeId: string };
  used: Uint8Array;
  usedCount: number;
  /** Sequence numbers whose derived keys were handed ahead (their bits are set in `used`). */
  ahead: Map<number, Ahead>;
  /** The one connection this key's keys may be handed ahead to. */
  holder: object | undefined;
  /** Seen on two connections: nothing more is handed ahead. */
  shared: boolean;
}

export type Claim =
  | { ok: true; material: Buffer }
  /** Keys handed ahead and released unused: served as they are (the QKD key may be gone by now). */
  | { ok: true; keys: KeyPair }
  /** Handed ahead to `held`: ask it to release them, then claim again. */
  | { ok: false; held: object }
  | { ok: false; reason: RejectReason; message: string };

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
    ahead: new Map(),
    holder: undefined,
    shared: false,
  };
}

function zero(keys: KeyPair): void {
  keys.request.fill(0);
  keys.response.fill(0);
}

function forgetMaterial(k: HeldKey): void {
  k.material?.fill(0);
  k.material = undefined;
}

/** Past its window: the QKD key and every derived key still held ahead are zeroed. */
export function forget(k: HeldKey): void {
  forgetMaterial(k);
  for (const a of k.ahead.values()) zero(a.keys);
  k.ahead.clear();
}

export function expired(k: HeldKey, now: number, lifetimeMs: number): boolean {
  return now - k.fetchedAt >= lifetimeMs;
}

/**
 * Marks `header.seq` used and returns the key, or says why not. `requester` is the connection asking:
 * asking for a key it was handed ahead means it has used it.
 */
export function claim(
  k: HeldKey,
  header: EnvelopeHeader,
  now: number,
  lifetimeMs: number,
  requester?: object,
): Claim {
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
  if (expired(k, now, lifetimeMs)) forget(k);
  const a = k.ahead.get(header.seq);
  if (a && a.holder === requester && requester !== undefined) {
    zero(a.keys);
    k.ahead.delete(header.seq);
  } else if (a?.holder) return { ok: false, held: a.holder };
  else if (a) {
    k.ahead.delete(header.seq);
    return { ok: true, keys: a.keys };
  }
  if ((k.used[byte] ?? 0) & bit)
    return {
      ok: false,
      reason: 'replay',
      message: `sequence ${header.seq} of key ${k.keyId} was already used`,
    };
  if (!k.material)
    return {
      ok: false,
      reason: 'key-expired',
      message: `key ${k.keyId} is past its ${lifetimeMs / 1000} s window or spent`,
    };
  const material = Buffer.from(k.material);
  k.used[byte] = (k.used[byte] ?? 0) | bit;
  k.usedCount++;
  if (k.usedCount === k.invocationsPerKey) forgetMaterial(k);
  return { ok: true, material };
}

/**
 * Hands `holder` the derived keys of up to `count` unused sequence numbers after `after.seq`, marking
 * them claimed (the holder asks for more only once it holds none of this key).
 * Nothing once the key was seen on another connection, or when less than `minValidMs` of its window is left.
 */
export function reserve(
  k: HeldKey,
  after: EnvelopeHeader,
  holder: object,
  count: number,
  now: number,
  lifetimeMs: number,
  minValidMs: number,
): { seq: number; keys: KeyPair }[] {
  if (k.holder !== undefined && k.holder !== holder) k.shared = true;
  if (k.shared || count <= 0 || !k.material || lifetimeMs - (now - k.fetchedAt) < minValidMs) return [];
  k.holder = holder;
  const out: { seq: number; keys: KeyPair }[] = [];
  for (let seq = after.seq + 1; seq < k.invocationsPerKey && out.length < count; seq++) {
    const byte = seq >> 3;
    const bit = 1 << (seq & 7);
    if ((k.used[byte] ?? 0) & bit) continue;
    k.used[byte] = (k.used[byte] ?? 0) | bit;
    k.usedCount++;
    const pair = deriveKeyPair(k.material, { ...after, seq });
    const keys = { request: pair.request, response: pair.response };
    k.ahead.set(seq, { keys, holder });
    out.push({ seq, keys });
  }
  if (k.usedCount === k.invocationsPerKey) forgetMaterial(k);
  return out;
}

/** `holder` says which of its keys ahead it has not used: those can be served again, the rest are spent. */
export function release(k: HeldKey, holder: object, unused: ReadonlySet<number>): void {
  for (const [seq, a] of k.ahead) {
    if (a.holder !== holder) continue;
    if (unused.has(seq)) a.holder = undefined;
    else {
      zero(a.keys);
      k.ahead.delete(seq);
    }
  }
}

/** `holder` reports taking `seq`, before it uses it: nobody else is served it. */
export function spend(k: HeldKey, holder: object, seq: number): void {
  const a = k.ahead.get(seq);
  if (a?.holder !== holder) return;
  zero(a.keys);
  k.ahead.delete(seq);
}

/**
 * `holder`'s connection is gone. Every key it used was reported on that connection before it was used,
 * and a connection's frames all arrive before its end: what it never reported, it never used (and,
 * its connection gone, can no longer use), so another container is served those.
 */
export function dropHolder(k: HeldKey, holder: object): void {
  for (const a of k.ahead.values()) if (a.holder === holder) a.holder = undefined;
  if (k.holder === holder) k.holder = undefined;
}

/** Whether an entry can be dropped altogether: past twice its window (replays then fail at the KME). */
export function droppable(k: HeldKey, now: number, lifetimeMs: number): boolean {
  return now - k.fetchedAt >= 2 * lifetimeMs;
}
