// Shared shape of every `make bench` result: a printed table and a JSON file under .bench/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export function median(values: number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Summarises latencies given in milliseconds. */
export function summarise(latenciesMs: number[]): LatencySummary {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
}

export interface BenchRow {
  metric: string;
  value: number;
  unit: string;
  /** Target as text, e.g. ">= 1000"; compared by `meetsTarget`. */
  target?: string;
}

export function meetsTarget(row: BenchRow): boolean | undefined {
  const m = row.target?.match(/^(>=|<=)\s*([\d.]+)/);
  if (!m) return undefined;
  const bound = Number(m[2]);
  return m[1] === '>=' ? row.value >= bound : row.value <= bound;
}

/** Prints a table and writes `.bench/<name>.json` (relative to the repository root). */
export function report(name: string, rows: BenchRow[], context: Record<string, unknown> = {}): void {
  const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(v < 10 ? 3 : 1));
  const lines = rows.map((r) => {
    const ok = meetsTarget(r);
    return [
      r.metric,
      `${fmt(r.value)} ${r.unit}`,
      r.target ?? '',
      ok === undefined ? '' : ok ? 'ok' : 'MISS',
    ];
  });
  const widths = [0, 1, 2, 3].map((i) =>
    Math.max(...[['metric', 'value', 'target', ''], ...lines].map((l) => l[i]!.length)),
  );
  const row = (l: string[]) =>
    l
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  console.log(`\n== ${name} ==`);
  console.log(row(['metric', 'value', 'target', '']));
  for (const l of lines) console.log(row(l));
  const dir = join(process.env.MECQKD_ROOT ?? process.cwd(), '.bench');
  mkdirSync(dir, { recursive: true });
  const results = rows.map((r) => ({ ...r, met: meetsTarget(r) }));
  writeFileSync(
    join(dir, `${name}.json`),
    `${JSON.stringify({ name, at: new Date().toISOString(), context, results }, null, 2)}\n`,
  );
}
