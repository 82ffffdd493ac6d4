// Constant-time comparison of a presented secret with the expected one. Both are hashed first, so
// neither their contents nor their lengths show in the timing.
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string) => createHash('sha256').update(s).digest();

export function sameSecret(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}
