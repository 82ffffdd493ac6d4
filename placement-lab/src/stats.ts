// Statistics over seeds and the analytic reference.

/** Erlang-B by the stable recursion B₀ = 1, B_k = A·B_{k−1} / (k + A·B_{k−1}). */
export function erlangB(offered: number, servers: number): number {
  let b = 1;
  for (let k = 1; k <= servers; k++) b = (offered * b) / (k + offered * b);
  return b;
}

// Two-sided 97.5% quantiles of Student's t for 1…30 degrees of freedom.
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

export interface Estimate {
  mean: number;
  /** Half-width of the 95% confidence interval (Student's t over independent replications). */
  half: number;
  n: number;
}

export function estimate(xs: readonly number[]): Estimate {
  const n = xs.length;
  const mean = xs.reduce((s, x) => s + x, 0) / n;
  if (n < 2) return { mean, half: Number.NaN, n };
  const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1);
  const t = T975[Math.min(n - 1, T975.length) - 1] ?? 1.96;
  return { mean, half: t * Math.sqrt(variance / n), n };
}

/** Jain's fairness index: 1 when all equal, 1/n when one holds everything. */
export function jain(xs: readonly number[]): number {
  const sum = xs.reduce((s, x) => s + x, 0);
  const sq = xs.reduce((s, x) => s + x * x, 0);
  return sq > 0 ? (sum * sum) / (xs.length * sq) : 1;
}
