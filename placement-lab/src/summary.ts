// Rows over seeds → one estimate (mean, 95% CI half-width) per scenario, policy and metric.
import { type Estimate, estimate } from './stats.ts';
import type { Row, Scenario } from './sweep.ts';

export const METRICS = [
  'blocking',
  'misplaced',
  'dropped',
  'droppedPerHour',
  'lost',
  'migrationsPerHour',
  'migrationsPerKiloAdmitted',
  'refillingShare',
  'keysLowMigrationsPerHour',
  'overloadMigrationsPerHour',
  'refillingMigrationsPerHour',
  'outlastedMigrationsPerHour',
  'failedMigrationsPerHour',
  'notificationsPerHour',
  'deploysPerHour',
  'keyKbps',
  'jain',
  'spread',
  'overload',
  'decisionUs',
] as const;
export type Metric = (typeof METRICS)[number];

export interface Summary extends Scenario {
  policy: string;
  seeds: number;
  est: Record<Metric, Estimate>;
}

export const scenarioKey = (s: Scenario) => `${s.hosts}/${s.topology}/${s.telemetry}/${s.load}`;

export function summarise(rows: readonly Row[]): Summary[] {
  const groups = new Map<string, Row[]>();
  for (const r of rows) {
    const k = `${scenarioKey(r)}/${r.policy}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  return [...groups.values()].map((g) => {
    const first = g[0] as Row;
    const est = Object.fromEntries(METRICS.map((m) => [m, estimate(g.map((r) => r[m]))])) as Record<
      Metric,
      Estimate
    >;
    return {
      hosts: first.hosts,
      topology: first.topology,
      telemetry: first.telemetry,
      load: first.load,
      policy: first.policy,
      seeds: g.length,
      est,
    };
  });
}

const cell = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(6)).toString() : '');

export function summaryCsv(summaries: readonly Summary[]): string {
  const head = ['hosts', 'topology', 'telemetry', 'load', 'policy', 'seeds'];
  const cols = METRICS.flatMap((m) => [m, `${m}Ci95`]);
  const lines = summaries.map((s) =>
    [
      s.hosts,
      s.topology,
      s.telemetry,
      s.load,
      s.policy,
      s.seeds,
      ...METRICS.flatMap((m) => [cell(s.est[m].mean), cell(s.est[m].half)]),
    ].join(','),
  );
  return `${[...head, ...cols].join(',')}\n${lines.join('\n')}\n`;
}

export function rowsCsv(rows: readonly Row[]): string {
  const first = rows[0];
  if (!first) return '';
  const keys = Object.keys(first) as (keyof Row)[];
  return `${keys.join(',')}\n${rows.map((r) => keys.map((k) => (typeof r[k] === 'number' ? cell(r[k] as number) : r[k])).join(',')).join('\n')}\n`;
}
