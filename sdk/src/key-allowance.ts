// The per-context allowance of new QKD keys, one rule for both perimeters: the host SAE refuses a
// context's new key beyond it (host-sae/src/key-allowance.ts, state in Redis), and the SDK paces its
// key use to half its burst, so a well-behaved client never meets the refusal. The allowance comes
// from the MecApp's declared demand, the same numbers placement commits on every QKD hop:
//
//   keysPerSecond = max(expectedInvocationsPerSecond / invocationsPerKey, 1 / 60 s)
//   burst         = max(16, ⌈2 s × keysPerSecond⌉) keys
//
// The floor of one key a minute is what a client invoking rarely needs, as keys expire (60 s in
// the SDK). The decision is GCRA (a token bucket kept as one number, the theoretical arrival time
// `tat`): each new key moves `tat` on by 1/keysPerSecond, and a key is refused while `tat` would
// lie more than `burst` intervals ahead of now. The host runs the same arithmetic as a Redis script.

export interface KeyDemand {
  expectedInvocationsPerSecond: number;
  invocationsPerKey: number;
}

export interface KeyAllowance {
  keysPerSecond: number;
  /** New keys a context may take at once after a quiet spell. */
  burst: number;
}

export const MIN_KEYS_PER_SECOND = 1 / 60;
export const MIN_BURST = 16;
export const BURST_SECONDS = 2;

export function keyAllowance(d: KeyDemand): KeyAllowance {
  const keysPerSecond = Math.max(d.expectedInvocationsPerSecond / d.invocationsPerKey, MIN_KEYS_PER_SECOND);
  return { keysPerSecond, burst: Math.max(MIN_BURST, Math.ceil(BURST_SECONDS * keysPerSecond)) };
}

/**
 * The key quota of a client SAE at its own KME (QKD 015 app_qos, kme-sim's `appQos`) for the
 * contexts it serves, each with its MecApp's placement (demand and key size): the sum of their
 * allowances in key bits. So the client KME refuses nothing the hosts would admit, and a client that
 * bypasses the SDK still cannot take more of the QKD link than its apps declared.
 */
export function saeKeyQuota(contexts: (KeyDemand & { keySizeBits: number })[]): {
  maxBandwidth: number;
  burstBits: number;
} {
  if (contexts.length === 0) throw new Error('a key quota needs the demand of at least one context');
  let bitsPerSecond = 0;
  let burstBits = 0;
  for (const c of contexts) {
    const a = keyAllowance(c);
    bitsPerSecond += a.keysPerSecond * c.keySizeBits;
    burstBits += a.burst * c.keySizeBits;
  }
  return { maxBandwidth: Math.ceil(bitsPerSecond), burstBits };
}

/** The longest a refusal's hint may hold a client back: a broken or hostile answer cannot park it. */
export const MAX_RETRY_AFTER_MS = 10 * 60_000;

/**
 * What the SDK paces itself to: the same rate with half the burst, so that keys reaching the host
 * later or out of order (network delay, retries) still fit the host's allowance.
 */
export function clientAllowance(a: KeyAllowance): KeyAllowance {
  return { keysPerSecond: a.keysPerSecond, burst: Math.max(1, Math.floor(a.burst / 2)) };
}

/** GCRA parameters in milliseconds: the cost of one key and how far ahead `tat` may run. */
export function gcraParameters(a: KeyAllowance): { intervalMs: number; toleranceMs: number } {
  const intervalMs = 1000 / a.keysPerSecond;
  return { intervalMs, toleranceMs: a.burst * intervalMs };
}

export type KeyDecision = { ok: true; tat: number } | { ok: false; retryAfterMs: number };

/** Whether one more new key fits at `now` (ms), given the stored `tat` (ms; undefined when none). */
export function admitKey(tat: number | undefined, now: number, a: KeyAllowance): KeyDecision {
  const { intervalMs, toleranceMs } = gcraParameters(a);
  const next = Math.max(tat ?? now, now) + intervalMs;
  const ahead = next - now;
  if (ahead > toleranceMs) return { ok: false, retryAfterMs: Math.ceil(ahead - toleranceMs) };
  return { ok: true, tat: next };
}
