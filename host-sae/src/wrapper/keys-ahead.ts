// The action wrapper's keys handed ahead by the host SAE (protocol.ts): per QKD key ID, the derived
// keys of the next sequence numbers, which this container alone may serve, each taken once. All are
// zeroed once the key's window ends, when the SAE asks for them back (another container needs one)
// or when the channel they came over closes.
// Bundled into the wrapper: node: built-ins only.
import type { EnvelopeHeader } from '@mecqkd/sdk/envelope';

export interface Pair {
  req: Buffer;
  res: Buffer;
}

export interface AheadKeys {
  validMs: number;
  keys: { seq: number; requestKey: string; responseKey: string }[];
}

interface Entry {
  binding: Pick<EnvelopeHeader, 'contextId' | 'action' | 'clientSaeId'>;
  until: number;
  keys: Map<number, Pair>;
  timer: NodeJS.Timeout;
}

export function createKeysAhead(now: () => number = () => performance.now()) {
  const byKey = new Map<string, Entry>();

  /** Zeroes and forgets a key's keys ahead; names the sequence numbers that were still unused. */
  function release(keyId: string): number[] {
    const e = byKey.get(keyId);
    if (!e) return [];
    clearTimeout(e.timer);
    byKey.delete(keyId);
    for (const p of e.keys.values()) {
      p.req.fill(0);
      p.res.fill(0);
    }
    return [...e.keys.keys()];
  }

  return {
    /** Keeps the keys the SAE handed ahead with the derive for `header`. */
    add(header: EnvelopeHeader, given: AheadKeys): void {
      const { contextId, action, clientSaeId } = header;
      const until = now() + given.validMs;
      const e = byKey.get(header.keyId) ?? {
        binding: { contextId, action, clientSaeId },
        until,
        keys: new Map<number, Pair>(),
        timer: setTimeout(() => release(header.keyId), given.validMs).unref(),
      };
      for (const k of given.keys)
        e.keys.set(k.seq, {
          req: Buffer.from(k.requestKey, 'base64'),
          res: Buffer.from(k.responseKey, 'base64'),
        });
      byKey.set(header.keyId, e);
    },
    /** The keys for `header` if they were handed ahead to this container and are unused; taken once. */
    take(header: EnvelopeHeader): Pair | undefined {
      const e = byKey.get(header.keyId);
      if (!e) return undefined;
      if (now() >= e.until) {
        release(header.keyId);
        return undefined;
      }
      const b = e.binding;
      if (
        b.contextId !== header.contextId ||
        b.action !== header.action ||
        b.clientSaeId !== header.clientSaeId
      )
        return undefined;
      const pair = e.keys.get(header.seq);
      if (!pair) return undefined;
      e.keys.delete(header.seq);
      if (e.keys.size === 0) release(header.keyId);
      return pair;
    },
    release,
    /** Zeroes and forgets every key ahead: the channel they came over is gone. */
    releaseAll(): void {
      for (const keyId of [...byKey.keys()]) release(keyId);
    },
    /** Whether keys ahead of this QKD key are held: then a derive asks for no more (see reserve). */
    holds: (keyId: string) => byKey.has(keyId),
  };
}
export type KeysAhead = ReturnType<typeof createKeysAhead>;
