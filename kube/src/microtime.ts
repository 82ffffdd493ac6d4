// metav1.MicroTime: RFC 3339 with exactly six fractional digits. The apiserver rejects Lease and
// events.k8s.io times printed by Date#toISOString (three digits) with a 400.

/** Now, with real microseconds from the monotonic clock's sub-millisecond part. */
export function microTimeNow(): string {
  const epochUs = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  return formatMicroTime(epochUs);
}

/** Formats microseconds since the epoch as a MicroTime. */
export function formatMicroTime(epochUs: number): string {
  const ms = Math.floor(epochUs / 1000);
  const us = String(Math.floor(epochUs) % 1000).padStart(3, '0');
  return `${new Date(ms).toISOString().slice(0, -1)}${us}Z`;
}

/** Parses a MicroTime (or any RFC 3339 time) to milliseconds since the epoch. */
export function parseMicroTime(value: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new Error(`not an RFC 3339 time: ${JSON.stringify(value)}`);
  return ms;
}
