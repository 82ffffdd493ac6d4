// The client side of the key-use policy: QKD keys from the client KME (enc_keys for the serving
// host's SAE), each handing out sequence numbers 0 … N−1 for at most T, and a stock of spare keys
// refilled in the background so an invocation waits on the KME only when the stock ran dry. Each
// key taken into use is paced to the context's key allowance (key-allowance.ts), so the client
// itself never drains the client KME faster than its app declared; a host's refusal
// (key-rate-exceeded) holds every call back for as long as the host said, and so does the client
// KME's refusal past the SAE's key quota — then the request is made again, as nothing was taken
// and nothing sealed: the invocation waits, it is not lost.
import { type Qkd014Client, quotaRetryAfterMs } from '@mecqkd/kme-sim/client';
import {
  admitKey,
  clientAllowance,
  type KeyAllowance,
  keyAllowance,
  MAX_RETRY_AFTER_MS,
} from './key-allowance.ts';
import type { ClientMetrics } from './metrics.ts';

export interface KeySupplyOptions {
  kme: Qkd014Client;
  /** The slave SAE: the serving host's SAE ID (AppContext status.hostSaeId). */
  hostSaeId: string;
  /** N: invocations per key (the MecApp's placement.invocationsPerKey). */
  invocationsPerKey: number;
  /** T: how long a key may be used after it was fetched, ms (below the host SAE's window). */
  keyLifetimeMs?: number;
  /** Spare keys kept ready (0 = fetch on demand). */
  spares?: number;
  keySizeBits?: number;
  /**
   * The MecApp's placement.expectedInvocationsPerSecond: with N, the allowance new keys are paced
   * to. Without it nothing is paced ahead, and only the host's refusals hold the client back.
   */
  expectedInvocationsPerSecond?: number;
  metrics?: ClientMetrics;
  now?: () => number;
}

export interface KeyUse {
  keyId: string;
  /** A copy of the key; the caller zeroes it after deriving. */
  key: Buffer;
  seq: number;
}

interface Held {
  keyId: string;
  key: Buffer;
  fetchedAt: number;
  next: number;
}

export interface KeyStats {
  keysFetched: number;
  invocations: number;
  /** Keys fetched on the invocation path because no spare was ready. */
  waits: number;
  /** Calls held back by the key allowance (own pacing, a host's or the KME's refusal), and how long. */
  paced: number;
  pacedMs: number;
}

export interface KeySupply {
  next(): Promise<KeyUse>;
  /** Drops the current key (e.g. the host refused it), so the next call takes a fresh one. */
  discardCurrent(): void;
  /** The host refused a new key for `ms`: no call gets a key before then (the key is kept). */
  backOff(ms: number): void;
  stats(): KeyStats;
  close(): void;
}

/** The supply was closed (the session moved to a new address, or ended) while a caller waited. */
export class KeySupplyClosed extends Error {
  constructor() {
    super('the key supply was closed while waiting for its key allowance');
  }
}

export function createKeySupply(opts: KeySupplyOptions): KeySupply {
  const now = opts.now ?? Date.now;
  const lifetime = opts.keyLifetimeMs ?? 60_000;
  const spareTarget = opts.spares ?? 1;
  const spares: Held[] = [];
  let current: Held | undefined;
  let refilling: Promise<void> | undefined;
  let switching: Promise<void> | undefined;
  let closed = false;
  const stats: KeyStats = { keysFetched: 0, invocations: 0, waits: 0, paced: 0, pacedMs: 0 };
  const pacing: KeyAllowance | undefined =
    opts.expectedInvocationsPerSecond === undefined
      ? undefined
      : clientAllowance(
          keyAllowance({
            expectedInvocationsPerSecond: opts.expectedInvocationsPerSecond,
            invocationsPerKey: opts.invocationsPerKey,
          }),
        );
  let tat: number | undefined;
  let notBefore = 0;

  async function holdUntil(t: number): Promise<void> {
    const ms = t - now();
    if (ms <= 0) return;
    stats.paced++;
    stats.pacedMs += ms;
    await new Promise((r) => setTimeout(r, ms));
    if (closed) throw new KeySupplyClosed();
  }

  /** Waits until one more key fits the allowance, and counts it. */
  async function pace(): Promise<void> {
    if (!pacing) return;
    for (;;) {
      const d = admitKey(tat, now(), pacing);
      if (d.ok) {
        tat = d.tat;
        return;
      }
      await holdUntil(now() + d.retryAfterMs);
    }
  }

  /**
   * enc_keys, made again after each quota refusal once the KME's hint has passed. Only the callers
   * that need a new key wait: the key in use serves its remaining invocations meanwhile.
   */
  async function encKeys(n: number) {
    for (;;) {
      try {
        return await opts.kme.encKeys(opts.hostSaeId, { number: n, size: opts.keySizeBits ?? 256 });
      } catch (err) {
        const ms = quotaRetryAfterMs(err);
        if (ms === undefined) throw err;
        await holdUntil(now() + Math.min(ms, MAX_RETRY_AFTER_MS));
      }
    }
  }

  async function fetchKeys(n: number): Promise<Held[]> {
    const got = await encKeys(n);
    stats.keysFetched += got.keys.length;
    opts.metrics?.keysFetched.inc(got.keys.length);
    const at = now();
    return got.keys.map((k) => ({
      keyId: k.key_ID,
      key: Buffer.from(k.key, 'base64'),
      fetchedAt: at,
      next: 0,
    }));
  }

  const fresh = (h: Held) => now() - h.fetchedAt < lifetime;
  const usable = (h: Held | undefined): h is Held => !!h && h.next < opts.invocationsPerKey && fresh(h);
  const wipe = (h: Held) => h.key.fill(0);
  const retire = (h: Held) => {
    if (h.next > 0) opts.metrics?.invocationsPerKey.observe(h.next);
    wipe(h);
  };

  function refill(): void {
    if (closed || refilling || spares.length >= spareTarget) return;
    refilling = fetchKeys(spareTarget - spares.length)
      .then((keys) => {
        if (closed) keys.forEach(wipe);
        else spares.push(...keys);
      })
      .catch(() => undefined) // the invocation path fetches on demand and reports the error
      .finally(() => {
        refilling = undefined;
      });
  }

  async function take(): Promise<Held> {
    while (spares.length > 0) {
      const s = spares.shift()!;
      if (fresh(s)) return s;
      wipe(s);
    }
    if (refilling) {
      await refilling;
      if (spares.length > 0) return take();
    }
    stats.waits++;
    const [k] = await fetchKeys(1);
    return k!;
  }

  return {
    async next() {
      await holdUntil(notBefore);
      // Concurrent callers share one switch to the next key rather than each taking one.
      while (!usable(current)) {
        switching ??= (async () => {
          if (current) retire(current);
          current = undefined;
          await pace();
          current = await take();
        })().finally(() => {
          switching = undefined;
        });
        await switching;
      }
      const use = { keyId: current.keyId, key: Buffer.from(current.key), seq: current.next++ };
      stats.invocations++;
      refill();
      return use;
    },
    discardCurrent() {
      if (current) retire(current);
      current = undefined;
    },
    backOff(ms) {
      notBefore = Math.max(notBefore, now() + ms);
    },
    stats: () => ({ ...stats }),
    close() {
      closed = true;
      // the key in use still counts for invocations per key
      if (current) retire(current);
      for (const h of spares) wipe(h);
      spares.length = 0;
      current = undefined;
    },
  };
}
