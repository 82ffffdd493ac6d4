// Numbers as a person reads them at a glance: shares as whole percents, rates with an SI prefix.
// Used for the status fields behind `kubectl get mec` columns and by the `mecqkd` CLI.

/** A share in [0,1] as a whole percent; values outside are clamped. */
export function percent(share: number): number {
  return Math.round(Math.min(1, Math.max(0, share)) * 100);
}

const PREFIXES = ['', 'k', 'M', 'G', 'T'] as const;

/** Bits per second with three significant digits: 54389.4 → "54.4 kb/s". */
export function bitRate(bitsPerSecond: number): string {
  let v = Math.max(0, bitsPerSecond);
  let i = 0;
  while (v >= 999.5 && i < PREFIXES.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(3))} ${PREFIXES[i]}b/s`;
}
