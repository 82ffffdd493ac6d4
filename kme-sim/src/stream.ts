// The simulated QKD output of a link: a deterministic byte stream per direction, derived from the link's
// shared seed, so both ends hold identical bits without ever sending them. Positions are byte offsets; the
// KME↔KME channel carries offsets only. AES-256-CTR is seekable, so any range is cheap to regenerate.
import { createCipheriv, hkdfSync } from 'node:crypto';

export type StreamKey = Buffer;

/** The stream of keys that `from` originates towards `to` on `linkId`; each direction has its own. */
export function streamKey(seedHex: string, linkId: string, from: string, to: string): StreamKey {
  return Buffer.from(
    hkdfSync('sha256', Buffer.from(seedHex, 'hex'), linkId, `mecqkd-link ${from}>${to}`, 32),
  );
}

const BLOCK = 16;

/** `length` bytes of the stream starting at byte `offset`. */
export function streamBytes(key: StreamKey, offset: number, length: number): Buffer {
  const block = Math.floor(offset / BLOCK);
  const skip = offset - block * BLOCK;
  const iv = Buffer.alloc(BLOCK);
  // Offsets stay below 2^53, so the counter fits in the low 8 bytes.
  iv.writeBigUInt64BE(BigInt(block), 8);
  const cipher = createCipheriv('aes-256-ctr', key, iv);
  return cipher.update(Buffer.alloc(skip + length)).subarray(skip);
}

export function xor(a: Buffer, b: Buffer): Buffer {
  if (a.length !== b.length) throw new Error(`xor of ${a.length} and ${b.length} bytes`);
  const out = Buffer.allocUnsafe(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] as number) ^ (b[i] as number);
  return out;
}
