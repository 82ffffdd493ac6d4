// The soak's arithmetic: p99 of a window of latencies, and a series' least-squares slope per hour,
// over the whole run and over its second half. The second half is reported beside the whole because
// a bounded buffer that fills during the first minutes (etcd's raft log and its history until the
// apiserver's first compaction at 2 × 5 min) makes the whole-run slope positive without any leak;
// a leak keeps its slope in the second half too.

export interface Point {
  /** ms since the soak began */
  t: number;
  y: number;
}

export function p99(xs: number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(0.99 * s.length) - 1)];
}

/** Least-squares slope of (t ms, y) per hour; undefined below 3 points. */
export function slopePerHour(points: Point[]): number | undefined {
  if (points.length < 3) return undefined;
  const n = points.length;
  const mt = points.reduce((s, p) => s + p.t, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const num = points.reduce((s, p) => s + (p.t - mt) * (p.y - my), 0);
  const den = points.reduce((s, p) => s + (p.t - mt) ** 2, 0);
  return den === 0 ? 0 : (num / den) * 3_600_000;
}

/** The points from the middle of the run (by time, `runMs` long) on. */
export function secondHalf(points: Point[], runMs: number): Point[] {
  return points.filter((p) => p.t >= runMs / 2);
}
