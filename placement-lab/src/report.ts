// The report: tables from the summaries, the plots, and the text that explains the model and results.
import { DEFAULT_WEIGHTS } from '@mecqkd/operator/placement/score';
import {
  OPTIMUM_ARRIVALS,
  OPTIMUM_HOSTS,
  OPTIMUM_POLICIES,
  OPTIMUM_SEEDS,
  type OptimumRow,
} from './optimum.ts';
import { dotsWithCi, linesWithCi, scatter, toSvg } from './plots.ts';
import { estimate } from './stats.ts';
import type { Metric, Summary } from './summary.ts';
import {
  ARRIVALS,
  CONFIGS,
  DISTURBANCES,
  HEADLINE,
  MEAN_HOLDING_S,
  type Row,
  type Scenario,
  SEEDS,
  STALE_PERIOD_S,
  WARMUP,
  WEIGHT_SCENARIO,
  WEIGHTS,
} from './sweep.ts';

const pct = (x: number, digits = 1) => `${(100 * x).toFixed(digits)}%`;
const ci = (s: Summary, m: Metric, scale = 1, digits = 2) =>
  `${(s.est[m].mean * scale).toFixed(digits)} ± ${(s.est[m].half * scale).toFixed(digits)}`;

const same = (s: Summary, o: Partial<Summary>) =>
  (o.hosts === undefined || s.hosts === o.hosts) &&
  (o.topology === undefined || s.topology === o.topology) &&
  (o.telemetry === undefined || s.telemetry === o.telemetry) &&
  (o.load === undefined || s.load === o.load) &&
  (o.policy === undefined || s.policy === o.policy);

function find(summaries: readonly Summary[], o: Partial<Summary>): Summary {
  const s = summaries.find((x) => same(x, o));
  if (!s) throw new Error(`no results for ${JSON.stringify(o)}`);
  return s;
}

const POLICY_ORDER = CONFIGS.map((c) => c.name);
const PLOTTED = [
  'random-blind',
  'random-feasible',
  'seed',
  'least-loaded',
  'power-of-two',
  'best-fit',
  'shortest-path-first',
  'static',
  'ours',
];

export function headlineTable(summaries: readonly Summary[]): string {
  const head = { ...HEADLINE, load: 0.8 };
  const lines = [
    `Headline: ${head.hosts} hosts, ${head.topology} key paths, ${head.telemetry} telemetry, offered load ${head.load} (mean ± 95% CI over ${SEEDS.length} seeds)`,
    '',
    '| policy | blocking % | dropped % | migrations/h | notifications/h | key kb/s | Jain | decision µs |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const name of POLICY_ORDER) {
    const s = find(summaries, { ...head, policy: name });
    lines.push(
      `| ${name} | ${ci(s, 'blocking', 100)} | ${ci(s, 'dropped', 100)} | ${ci(s, 'migrationsPerHour', 1, 1)} | ${ci(s, 'notificationsPerHour', 1, 1)} | ${ci(s, 'keyKbps', 1, 0)} | ${ci(s, 'jain', 1, 3)} | ${s.est.decisionUs.mean.toFixed(0)} |`,
    );
  }
  return lines.join('\n');
}

interface OptimumGap {
  load: number;
  policy: string;
  optimum: number;
  admitted: number;
  /** 1 − admitted/optimum. */
  gap: number;
  blockingOpt: number;
  blocking: number;
}

function optimumGaps(rows: readonly OptimumRow[]): OptimumGap[] {
  const out: OptimumGap[] = [];
  for (const load of [...new Set(rows.map((r) => r.load))])
    for (const p of OPTIMUM_POLICIES) {
      const at = rows.filter((r) => r.load === load);
      const optimum = at.reduce((s, r) => s + r.optimum, 0);
      const admitted = at.reduce((s, r) => s + (r.admitted[p.name] ?? 0), 0);
      const arrivals = at.reduce((s, r) => s + r.arrivals, 0);
      out.push({
        load,
        policy: p.name,
        optimum,
        admitted,
        gap: 1 - admitted / optimum,
        blockingOpt: 1 - optimum / arrivals,
        blocking: 1 - admitted / arrivals,
      });
    }
  return out;
}

const datum = (s: Summary, metrics: Metric[], scale = 1) => {
  const d: Record<string, string | number> = {
    policy: s.policy,
    load: s.load,
    hosts: `${s.hosts} hosts`,
    topology: s.topology,
    telemetry: s.telemetry,
    scenario: `${s.topology}, ${s.telemetry}`,
  };
  for (const m of metrics) {
    d[m] = s.est[m].mean * scale;
    d[`${m}Lo`] = (s.est[m].mean - (s.est[m].half || 0)) * scale;
    d[`${m}Hi`] = (s.est[m].mean + (s.est[m].half || 0)) * scale;
  }
  return d;
};

export async function plots(summaries: readonly Summary[], optimum: readonly OptimumRow[]) {
  const curve = summaries.filter(
    (s) => s.hosts === HEADLINE.hosts && s.telemetry === HEADLINE.telemetry && PLOTTED.includes(s.policy),
  );
  const headline = curve.filter((s) => s.topology === HEADLINE.topology);
  const at08 = summaries.filter((s) => s.load === 0.8 && POLICY_ORDER.includes(s.policy));
  const weights = summaries.filter((s) => same(s, WEIGHT_SCENARIO) && s.policy.startsWith('w:'));
  const gaps = optimumGaps(optimum);
  const out: [string, string][] = [];
  out.push([
    'blocking-vs-load.svg',
    await toSvg(
      linesWithCi({
        data: headline.map((s) => datum(s, ['blocking'], 100)),
        x: 'load',
        xTitle: 'offered load (fraction of fluid capacity)',
        y: 'blocking',
        yTitle: 'blocking probability (%)',
        series: 'policy',
        order: PLOTTED,
        title: `Blocking, ${HEADLINE.hosts} hosts, relayed key paths, telemetry every ${STALE_PERIOD_S} s (95% CI)`,
      }),
    ),
  ]);
  out.push([
    'blocking-vs-load-topologies.svg',
    await toSvg(
      linesWithCi({
        data: curve.map((s) => datum(s, ['blocking'], 100)),
        x: 'load',
        xTitle: 'offered load',
        y: 'blocking',
        yTitle: 'blocking probability (%)',
        series: 'policy',
        order: PLOTTED,
        column: 'topology',
        title: `Blocking by key topology, ${HEADLINE.hosts} hosts, stale telemetry`,
      }),
    ),
  ]);
  out.push([
    'blocking-grid.svg',
    await toSvg(
      dotsWithCi({
        data: at08.map((s) => datum(s, ['blocking'], 100)),
        x: 'blocking',
        xTitle: 'blocking (%)',
        y: 'policy',
        order: POLICY_ORDER,
        column: 'hosts',
        row: 'scenario',
        highlight: 'ours',
        title: 'Blocking at offered load 0.8, every scenario (95% CI)',
      }),
    ),
  ]);
  const head08 = summaries.filter(
    (s) => same(s, { ...HEADLINE, load: 0.8 }) && POLICY_ORDER.includes(s.policy),
  );
  out.push([
    'migrations.svg',
    await toSvg(
      scatter({
        data: head08.map((s) => ({
          policy: s.policy,
          lost: s.est.lost.mean * 100,
          migrations: s.est.migrationsPerHour.mean,
        })),
        x: 'migrations',
        xTitle: 'migrations per hour',
        y: 'lost',
        yTitle: 'blocked + dropped (% of arrivals)',
        label: 'policy',
        title: 'What migrations buy (headline scenario, load 0.8)',
      }),
    ),
  ]);
  out.push([
    'jain-vs-load.svg',
    await toSvg(
      linesWithCi({
        data: headline.map((s) => datum(s, ['jain'])),
        x: 'load',
        xTitle: 'offered load',
        y: 'jain',
        yTitle: "Jain's index of host utilisation",
        series: 'policy',
        order: PLOTTED,
        title: 'Load balance, headline scenario',
      }),
    ),
  ]);
  out.push([
    'optimum-gap.svg',
    await toSvg({
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: `Admitted contexts short of the offline optimum (${OPTIMUM_HOSTS} hosts, ${OPTIMUM_ARRIVALS} arrivals × ${OPTIMUM_SEEDS.length} seeds)`,
      data: { values: gaps.map((g) => ({ ...g, gap: g.gap * 100, load: String(g.load) })) },
      width: 420,
      height: 240,
      mark: 'bar',
      encoding: {
        x: { field: 'load', type: 'nominal', title: 'offered load' },
        xOffset: { field: 'policy', sort: OPTIMUM_POLICIES.map((p) => p.name) },
        y: { field: 'gap', type: 'quantitative', title: 'gap to optimum (% of optimal admissions)' },
        color: { field: 'policy', type: 'nominal', sort: OPTIMUM_POLICIES.map((p) => p.name), title: null },
      },
      config: { font: 'Helvetica, Arial, sans-serif' },
    }),
  ]);
  out.push([
    'weights.svg',
    await toSvg(
      dotsWithCi({
        data: weights.map((s) => ({ ...datum(s, ['lost'], 100), policy: s.policy.slice(2) })),
        x: 'lost',
        xTitle: 'blocked + dropped (% of arrivals)',
        y: 'policy',
        order: WEIGHTS.map((w) => w.name),
        highlight: 'default',
        title: 'Score weights (ours, headline scenario, load 0.8)',
      }),
    ),
  ]);
  return out;
}

/** Paired over seeds (common random numbers): mean ± CI of f(a's run, b's run) for one scenario. */
function paired(
  rows: readonly Row[],
  scenario: Scenario,
  a: string,
  b: string,
  f: (x: Row, y: Row) => number,
) {
  const at = rows.filter(
    (r) =>
      r.hosts === scenario.hosts &&
      r.topology === scenario.topology &&
      r.telemetry === scenario.telemetry &&
      r.load === scenario.load,
  );
  const values = at
    .filter((r) => r.policy === a)
    .flatMap((x) => {
      const y = at.find((r) => r.policy === b && r.seed === x.seed);
      return y ? [f(x, y)] : [];
    });
  return estimate(values);
}

const range = (e: { mean: number; half: number }, scale = 100, digits = 1) =>
  `${(e.mean * scale).toFixed(digits)} ± ${(e.half * scale).toFixed(digits)}`;

export function report(
  summaries: readonly Summary[],
  rows: readonly Row[],
  optimum: readonly OptimumRow[],
  run: { seconds: number; workers: number },
): string {
  const head = { ...HEADLINE, load: 0.8 };
  const grid = summaries.filter((s) => s.policy === 'ours');
  const targets = grid
    .map((o) => {
      const seed = find(summaries, { ...o, policy: 'seed' });
      return { o, seed, reduction: 1 - o.est.blocking.mean / seed.est.blocking.mean };
    })
    .sort(
      (a, b) =>
        a.o.hosts - b.o.hosts ||
        a.o.topology.localeCompare(b.o.topology) ||
        a.o.telemetry.localeCompare(b.o.telemetry) ||
        a.o.load - b.o.load,
    );
  const met = (t: (typeof targets)[number]) =>
    t.reduction >= 0.3 && t.o.est.migrationsPerHour.mean <= t.seed.est.migrationsPerHour.mean;
  const metBy = (policy: string) =>
    targets.filter((t) => {
      const p = find(summaries, { ...t.o, policy });
      return (
        1 - p.est.blocking.mean / t.seed.est.blocking.mean >= 0.3 &&
        p.est.migrationsPerHour.mean <= t.seed.est.migrationsPerHour.mean
      );
    }).length;
  const staticMet = metBy('static');
  const seedTriggerMet = metBy('ours+seed-trigger');
  const noHorizonMet = metBy('ours-no-horizon');
  const budgetMet = metBy('ours-1-per-round');
  const noHeadroomMet = metBy('ours-no-headroom');
  const oursH = find(summaries, { ...head, policy: 'ours' });
  const staticH = find(summaries, { ...head, policy: 'static' });
  const seedH = find(summaries, { ...head, policy: 'seed' });
  const oursAll = targets.map((t) => t.o);
  const headStats = {
    fewerDropsThanStatic: targets.filter(
      (t) => t.o.est.dropped.mean < find(summaries, { ...t.o, policy: 'static' }).est.dropped.mean,
    ).length,
    perAdmittedMet: targets.filter(
      (t) => t.o.est.migrationsPerKiloAdmitted.mean <= t.seed.est.migrationsPerKiloAdmitted.mean,
    ).length,
    refillingShare: weightedByMigrations(oursAll, (o) => o.est.refillingShare.mean),
    outlastedShare: weightedByMigrations(
      oursAll,
      (o) => o.est.outlastedMigrationsPerHour.mean / Math.max(1e-9, o.est.migrationsPerHour.mean),
    ),
    noHorizonMet,
    budgetMet,
    noHeadroomMet,
    // what the key-headroom term costs in blocking: ours − ours-no-headroom, paired, the worst scenario
    headroomBlocking: targets
      .map((t) => paired(rows, t.o, 'ours-no-headroom', 'ours', (x, y) => y.blocking - x.blocking))
      .reduce((a, b) => (b.mean > a.mean ? b : a)),
    sums: Object.fromEntries(
      ['ours', 'ours-no-horizon', 'ours-no-headroom', 'seed', 'seed-static', 'static'].map((policy) => {
        const at = targets.map((t) => find(summaries, { ...t.o, policy }).est);
        const sum = (m: Metric) => at.reduce((a, e) => a + e[m].mean, 0);
        return [policy, { migrations: sum('migrationsPerHour'), dropped: sum('droppedPerHour') }];
      }),
    ),
    displacedNoMore: targets.filter((t) => {
      const displaced = (e: Summary['est']) =>
        (e.migrationsPerHour.mean + e.droppedPerHour.mean) / Math.max(1e-9, e.keyKbps.mean);
      return displaced(t.o.est) <= displaced(t.seed.est);
    }).length,
    keysLowShare: weightedByMigrations(
      oursAll,
      (o) => o.est.keysLowMigrationsPerHour.mean / Math.max(1e-9, o.est.migrationsPerHour.mean),
    ),
    oursDropped: oursH.est.dropped.mean,
    staticDropped: staticH.est.dropped.mean,
    oursMigrations: oursH.est.migrationsPerHour.mean,
    seedMisplaced: seedH.est.misplaced.mean,
    seedBlocking: seedH.est.blocking.mean,
  };
  const minReduction = Math.min(...targets.map((t) => t.reduction));
  const gaps = optimumGaps(optimum);
  const oursGaps = gaps.filter((g) => g.policy === 'ours');
  const totalGap =
    1 - oursGaps.reduce((s, g) => s + g.admitted, 0) / oursGaps.reduce((s, g) => s + g.optimum, 0);
  const atLoad = (policy: string) =>
    `| ${policy} | ${[0.6, 0.8, 1]
      .map((load) => {
        const o = oursGaps.find((g) => g.load === load);
        const g = gaps.find((x) => x.load === load && x.policy === policy);
        return g && o ? `${pct(g.gap)} (blocking ${pct(g.blocking)})` : '';
      })
      .join(' | ')} |`;
  const grid08 = summaries.filter((s) => s.load === 0.8 && s.policy === 'ours');
  const cols = grid08
    .map((s) => ({ hosts: s.hosts, topology: s.topology, telemetry: s.telemetry }))
    .sort(
      (a, b) =>
        a.topology.localeCompare(b.topology) || a.telemetry.localeCompare(b.telemetry) || a.hosts - b.hosts,
    );
  const weightRows = WEIGHTS.map((w) => find(summaries, { ...WEIGHT_SCENARIO, policy: `w:${w.name}` }));

  return `<!-- generated by \`make lab\` (placement-lab/src/lab.ts); edit the generator, not this file -->
# placement-lab: how the MEO's placement and migration policy compares

The operator's own placement and optimisation functions (\`operator/src/placement/\`, imported, not
copied) run inside a seeded discrete-event simulator next to the baselines of
[placement.md](../../shared/docs/placement.md), against an offline optimum (a HiGHS MILP) on small
instances and against Erlang-B in the degenerate case. Everything below is regenerated by \`make lab\`
(${run.seconds.toFixed(0)} s on this machine with ${run.workers} worker threads); the per-scenario numbers are in
[summary.csv](placement-lab/summary.csv), the MILP comparison in [optimum.csv](placement-lab/optimum.csv).

![blocking against offered load](placement-lab/blocking-vs-load.svg)

## Results in one table

${headlineTable(summaries)}

- **Blocking**: ours blocks ${pct(find(summaries, { ...head, policy: 'ours' }).est.blocking.mean)} of arrivals against the seed
  MEO's ${pct(find(summaries, { ...head, policy: 'seed' }).est.blocking.mean)} here; over all ${targets.length} scenarios the reduction is at least
  ${pct(minReduction, 0)}, and ours needs no more migrations than the seed in ${targets.filter(met).length} of ${targets.length}
  scenarios (table below; the reasons follow it).
- **Optimum**: on ${OPTIMUM_HOSTS}-host instances ours admits ${pct(totalGap)} fewer contexts than the offline optimum
  over all loads, ${pct(Math.max(...oursGaps.map((g) => g.gap)))} at worst at a single load (target: within 5%).

## The model

**Hosts.** N ∈ {3, 5, 10} MEC hosts, CPU capacity U(3, 7) units each. A host never runs more than its
capacity: a context placed on a host without room fails to deploy and counts as blocked.

**QKD links.** Secret key rate SKR(L) = 133 kb/s · e^(−0.0609·L) with L ∈ U(5, 50) km per link.
*Direct*: one link from the client KME to each host KME (1 hop). *Relayed*: a chain client KME →
relay 1 → relay 2 of trusted nodes; hosts hang off the client, relay 1 or relay 2 in turn, so paths
have 1, 2 or 3 hops and share the chain's links; a context's key rate is charged on **every** hop.
Each link keeps a key buffer of ${120} s of its nominal rate that fills at the link's current SKR and
drains at the key rate of the contexts routed over it; key availability is buffer level / size. A
context is admitted only if every hop of its path has spare rate (SKR − drawn ≥ its rate).

**Disturbances.** A link loses ${pct(1 - DISTURBANCES.factor, 0)} of its SKR for ${DISTURBANCES.meanDownS / 60} min on
average (exponential) every ${DISTURBANCES.meanUpS / 60} min on average. The buffer then drains; when it runs dry,
the newest contexts over that link are **dropped** until the draw fits. Migrating contexts away
before that is what a migration trigger is for.

**Workload.** 12 apps per instance: CPU per context log-uniform on [0.008, 1] units (125× spread), key
rate log-uniform on [1, 8] kb/s, maxLoad 0.8 and minKeyAvailability 0.1 (the MecApp defaults).
Contexts arrive as a Poisson process, the app uniform over the catalogue, and hold for an exponential
time of mean ${MEAN_HOLDING_S} s. Offered load ρ is a fraction of the **fluid capacity**: the LP optimum of
mean-sized contexts the instance holds (CPU within maxLoad · capacity on every host, key rate within
SKR on every link), so ρ = 1 is full whichever resource binds. ${ARRIVALS} arrivals per run, the first
${WARMUP} discarded as warm-up; ${SEEDS.length} seeds per scenario; every policy sees the same
instance, arrivals and disturbances for a seed (common random numbers).

**Telemetry.** *Fresh*: every decision sees the true state. *Stale*: host load, link SKR and key
availability are measured every ${STALE_PERIOD_S} s. Policies that run in the operator see what the operator
sees (\`operator/src/controllers/views.ts\`): the last load measurement plus the estimated load of each
context placed since, the exact committed key rate of every link (it is derived from placed contexts),
and one load estimate per app, **CPU over the smallest host's capacity** (the operator's
\`loadPerContext\`). The seed MEO sees only the last measurement of load and key availability.

**Migration.** A move releases the origin, needs real room on the target (else it fails and the
context stays), costs one client notification, one cold start and, when the target lacks the action,
one deploy. Triggers: *never*; *seed* — every 30 s each host over max load or under min key
availability gives up one random context, re-placed by the seed's rule; *ours* — the operator's
\`optimise()\` every 30 s with its defaults (≤ 5 moves per round, score gain ≥ 0.05, cool-down 60 s,
load, key and key-rate margins 0.1, drain horizon 60 s): off a host over a context's maxLoad, and off
a key path with a hop that is over-committed and whose stored key runs out within the horizon
(below). The operator reads stored keys from the QkdLink status; the simulator gives it the buffer
level of the last measurement.

## The policies

| name | placement | migration |
|---|---|---|
| random-blind | uniform over all hosts, no check | never |
| random-feasible | uniform over hosts passing the operator's filter | never |
| seed | the seed MEO: drop hosts whose measured load > maxLoad or key availability < min (the new context's load and the key *rate* are not considered), then weighted random by the operator's \`score\` with load and key weights only and \`choose('weighted-random')\` | seed |
| seed-static | as seed | never |
| least-loaded | filter, then lowest projected load | never |
| power-of-two | filter, two random feasible hosts, the less loaded | never |
| best-fit | filter, least CPU left after placing (consolidates) | never |
| shortest-path-first | filter, fewest hops, then most spare key rate | never |
| static | ours | never |
| ours+seed-trigger | ours | seed |
| ours | \`placeContext(…, DEFAULT_WEIGHTS, 'best')\`: the operator's filter and score | ours |
| ours-no-horizon | ours | ours with \`drainHorizonMs: 0\`: a draining hop is short of key when its availability is below the minimum, and sheds down to the key-rate margin (the rule before the horizon) |
| ours-1-per-round | ours | ours with \`maxMigrationsPerRound: 1\` (a budget like the seed's) |
| ours-no-headroom | ours without the key-headroom term (\`keyHeadroom: 0\`, the operator's default before it) | ours, same weights |

"The operator's filter" is \`filterHosts\`: load + the context's estimate ≤ maxLoad, and a key path of
at most 3 hops on which every hop has availability ≥ the minimum and spare rate ≥ the context's rate.

## Targets, scenario by scenario

Target: ≥ 30% lower blocking than the seed at equal or fewer migrations per hour. The reduction is
paired per seed (same instance and trace for both), 1 − ours/seed, mean ± 95% CI; "dropped" are
contexts lost when a disturbed link's key buffer ran dry; the seed's failed migrations are moves it
attempted to a target that had no room.

| hosts | keys | telemetry | load | seed blocking % | ours blocking % | reduction % | seed dropped % | ours dropped % | seed migrations/h (failed) | ours migrations/h | per 1000 admitted: seed / ours | met |
|---|---|---|---|---|---|---|---|---|---|---|---|---|
${targets
  .map((t) => {
    const red = paired(rows, t.o, 'ours', 'seed', (x, y) =>
      y.blocking > 0 ? 1 - x.blocking / y.blocking : 0,
    );
    return `| ${t.o.hosts} | ${t.o.topology} | ${t.o.telemetry} | ${t.o.load} | ${ci(t.seed, 'blocking', 100, 1)} | ${ci(t.o, 'blocking', 100, 1)} | ${range(red, 100, 0)} | ${ci(t.seed, 'dropped', 100)} | ${ci(t.o, 'dropped', 100)} | ${t.seed.est.migrationsPerHour.mean.toFixed(1)} (${t.seed.est.failedMigrationsPerHour.mean.toFixed(1)}) | ${t.o.est.migrationsPerHour.mean.toFixed(1)} | ${t.seed.est.migrationsPerKiloAdmitted.mean.toFixed(1)} / ${t.o.est.migrationsPerKiloAdmitted.mean.toFixed(1)} | ${met(t) ? 'yes' : 'no'} |`;
  })
  .join('\n')}

${MIGRATION_TARGET(targets.length, targets.filter(met).length, staticMet, seedTriggerMet, headStats)}

${triggerTable(targets, summaries)}

${missedTable(
  targets.filter((t) => !met(t)),
  rows,
  summaries,
)}

## Ours against every baseline

Blocking % (mean over ${SEEDS.length} seeds) at offered load 0.8:

| policy | ${cols.map((c) => `${c.hosts} ${c.topology} ${c.telemetry}`).join(' | ')} |
|---|${cols.map(() => '---').join('|')}|
${POLICY_ORDER.map(
  (p) =>
    `| ${p} | ${cols.map((c) => (find(summaries, { ...c, load: 0.8, policy: p }).est.blocking.mean * 100).toFixed(1)).join(' | ')} |`,
).join('\n')}

![blocking in every scenario](placement-lab/blocking-grid.svg)

![blocking by topology](placement-lab/blocking-vs-load-topologies.svg)

## Against the offline optimum

On ${OPTIMUM_HOSTS} hosts with direct links, fresh telemetry and no disturbances, ${OPTIMUM_ARRIVALS} arrivals from an
empty system per instance and ${OPTIMUM_SEEDS.length} instances per load, the MILP (HiGHS, solved to
optimality) chooses with hindsight which contexts to admit and where, never migrating. Gap = admitted
contexts short of the optimum; in brackets the blocking (the optimum's own is given in the first row).

| policy | load 0.6 | load 0.8 | load 1.0 |
|---|---|---|---|
| optimum | ${[0.6, 0.8, 1].map((l) => `0 (blocking ${pct(oursGaps.find((g) => g.load === l)?.blockingOpt ?? Number.NaN)})`).join(' | ')} |
${OPTIMUM_POLICIES.map((p) => atLoad(p.name)).join('\n')}

![gap to the optimum](placement-lab/optimum-gap.svg)

## Migrations and balance

![migrations against losses](placement-lab/migrations.svg)

![Jain's index](placement-lab/jain-vs-load.svg)

## Choosing weights

Ours with other score weights (placement and optimiser alike) on the headline scenario at load 0.8:

The spread across seeds is mostly between instances (each seed draws its own hosts, fibre lengths and
apps); the paired columns compare each weight vector with the default on the same instance and trace.

| weights (load, keys, path, contexts, headroom) | blocking % | vs default (paired, points) | dropped % | migrations/h | key kb/s | vs default (paired, kb/s) | Jain |
|---|---|---|---|---|---|---|---|
${weightRows
  .map((s, i) => {
    const w = WEIGHTS[i]!.weights;
    const name = `w:${WEIGHTS[i]!.name}`;
    const db = paired(rows, WEIGHT_SCENARIO, name, 'w:default', (x, y) => x.blocking - y.blocking);
    const dk = paired(rows, WEIGHT_SCENARIO, name, 'w:default', (x, y) => x.keyKbps - y.keyKbps);
    return `| ${WEIGHTS[i]!.name} (${w.load}, ${w.keyAvailability}, ${w.pathLength}, ${w.contexts}, ${w.keyHeadroom}) | ${ci(s, 'blocking', 100)} | ${range(db, 100, 2)} | ${ci(s, 'dropped', 100)} | ${ci(s, 'migrationsPerHour', 1, 1)} | ${ci(s, 'keyKbps', 1, 0)} | ${range(dk, 1, 1)} | ${ci(s, 'jain', 1, 3)} |`;
  })
  .join('\n')}

![weights](placement-lab/weights.svg)

${interpretation(summaries, rows)}

## Checks that keep the lab honest

\`npx mocha 'placement-lab/test/**/*.test.ts'\`:
- with identical contexts, identical hosts and fresh telemetry every feasibility-checking policy
  (ours, the seed with its threshold one slot below full, and every filtering baseline) blocks like
  the pooled system ErlangB(A, N·C) within its 95% CI, and random-blind like the split pool
  ErlangB(A/N, C);
- a run is a function of its seed;
- the MILP admits exactly what enumeration of every assignment finds on instances small enough to
  enumerate, and its assignment is feasible.
`;
}

/** Mean of f over scenarios, weighted by ours's migrations per hour in each. */
function weightedByMigrations(summaries: readonly Summary[], f: (s: Summary) => number): number {
  const total = summaries.reduce((a, s) => a + s.est.migrationsPerHour.mean, 0);
  return summaries.reduce((a, s) => a + f(s) * s.est.migrationsPerHour.mean, 0) / Math.max(1e-9, total);
}

interface HeadStats {
  fewerDropsThanStatic: number;
  perAdmittedMet: number;
  refillingShare: number;
  outlastedShare: number;
  noHorizonMet: number;
  budgetMet: number;
  noHeadroomMet: number;
  headroomBlocking: { mean: number; half: number };
  /** Per policy, migrations and dropped contexts per hour summed over every scenario. */
  sums: Record<string, { migrations: number; dropped: number }>;
  displacedNoMore: number;
  keysLowShare: number;
  oursDropped: number;
  staticDropped: number;
  oursMigrations: number;
  seedMisplaced: number;
  seedBlocking: number;
}

const f1 = (x: { migrations: number } | undefined) => (x?.migrations ?? Number.NaN).toFixed(1);
const d1 = (x: { dropped: number } | undefined) => (x?.dropped ?? Number.NaN).toFixed(1);
function keptPerMove(h: HeadStats) {
  const a = h.sums.ours;
  const b = h.sums['ours-no-horizon'];
  if (!a || !b || a.migrations <= b.migrations) return 'all the';
  return ((b.dropped - a.dropped) / (a.migrations - b.migrations)).toFixed(1);
}

function MIGRATION_TARGET(all: number, met: number, staticMet: number, seedTriggerMet: number, h: HeadStats) {
  return `**The migration half of the target holds in ${met} of ${all} scenarios** (${h.noHorizonMet} of ${all} without the drain
horizon, ${h.budgetMet} of ${all} with one move per round). Ours's KeysLow rule moves a context only off a key
path with a hop that is **over-committed** (the committed key rate of the contexts routed over it
above what the hop supplies now: its secret key rate, nothing if it is not ACTIVE) **and whose stored
key runs out within the drain horizon** at that drain (60 s: the next round, on telemetry up to 30 s
old, still comes first). A hop whose buffer is refilling, or lasts longer, keeps its contexts. A short
hop sheds contexts heaviest key rate first only until its stored key lasts the horizon: while the
buffer is still large that is one slice of its draw per round, and disturbances that end or contexts
that leave make the rest unnecessary; the availability rule it replaces waited until the buffer was
below the minimum (10%), when little key was left and nearly the whole excess had to go at once, and
missed drains fast enough to empty a tenth of the buffer between two rounds. A context short of key
needs no score gain to leave (any feasible target beats a drop). ${pct(h.keysLowShare, 0)} of ours's migrations
(weighted over all scenarios) are KeysLow; ${pct(h.refillingShare, 0)} left a path whose buffer was in truth already
refilling (stale telemetry: a rate measured before the disturbance ended) and ${pct(h.outlastedShare, 0)} left a
draining path that would have recovered before running dry (the simulator knows when a disturbance
ends; the operator cannot). In the headline scenario ours migrates ${h.oursMigrations.toFixed(1)} times an hour and drops
${pct(h.oursDropped, 2)} of arrivals against ${pct(h.staticDropped, 2)} for the same placement without migration (static); over all
scenarios ours drops fewer contexts than static in ${h.fewerDropsThanStatic} of ${all}. Summed over all ${all} scenarios ours
migrates ${f1(h.sums.ours)} and drops ${d1(h.sums.ours)} contexts an hour; without the horizon ${f1(h.sums['ours-no-horizon'])} and
${d1(h.sums['ours-no-horizon'])}; the seed ${f1(h.sums.seed)} and ${d1(h.sums.seed)}; static 0 and ${d1(h.sums.static)}: the horizon keeps
${keptPerMove(h)} contexts for every migration it adds.

**Fewer migrations come from placement, not from a stricter trigger.** The operator's score weighs the
spare share of the key rate on the path's tightest hop (\`keyHeadroom\`, weight ${DEFAULT_WEIGHTS.keyHeadroom} against ${DEFAULT_WEIGHTS.load} for load):
of two feasible hosts it prefers the one whose key path keeps more of its rate spare. A disturbance cuts
a link's rate to ${pct(DISTURBANCES.factor, 0)}; a hop placed with headroom is over-committed by less, or not at all, so its
buffer drains slowly enough to outlast most disturbances, and the few contexts that must leave are
fewer. The same operator without that term (ours-no-headroom) meets the migration half in
${h.noHeadroomMet} of ${all}, migrating ${f1(h.sums['ours-no-headroom'])} and dropping ${d1(h.sums['ours-no-headroom'])} contexts an hour summed over the scenarios, against
${f1(h.sums.ours)} and ${d1(h.sums.ours)} with it; it costs no blocking worth the name (the worst scenario, paired:
${range(h.headroomBlocking, 100, 2)} points) and keeps the gap to the optimum within target (below).

The seed's trigger looks at one number per host (the key availability of its first context's path,
measured every period), moves at most one context per host per period, and re-places it as blindly as
it places, so many of its attempts fail (the count in brackets) and many of its moves leave a path
that was refilling (table below); summed over all scenarios it drops ${d1(h.sums.seed)} contexts an hour against
${d1(h.sums['seed-static'])} for the same placement without it: it rescues about nothing. Ours admits far more contexts and
carries more key, so more of them sit on a link when it is disturbed: per 1000 admitted contexts ours
migrates no more than the seed in ${h.perAdmittedMet} of ${all} scenarios (column "per 1000 admitted"), and per 100 kb/s
of key carried a disturbance displaces (moves or drops) no more of ours's contexts than of the seed's
in ${h.displacedNoMore} of ${all} (table below). The operator's placement meets the whole target in
${staticMet} of ${all} scenarios with the optimiser off (static) and in ${seedTriggerMet} of ${all} with the seed's trigger, by giving
up the contexts ours's migrations rescue; which to run is the operator's trade (\`--optimise-period 0\`,
\`--drain-horizon 0\` for the availability rule, \`--max-migrations-per-round\`).`;
}

/** Every scenario's migrations by trigger and what became of the contexts on disturbed links. */
function triggerTable(targets: readonly { o: Summary; seed: Summary }[], summaries: readonly Summary[]) {
  const f = (x: number) => x.toFixed(2);
  const lines = targets.map(({ o, seed }) => {
    const st = find(summaries, { ...o, policy: 'static' });
    const ss = find(summaries, { ...o, policy: 'seed-static' });
    const nh = find(summaries, { ...o, policy: 'ours-no-horizon' });
    const e = (s: Summary) => s.est;
    // contexts a disturbance displaced (moved or dropped) per 100 kb/s of key carried
    const displaced = (s: Summary) =>
      (100 * (e(s).migrationsPerHour.mean + e(s).droppedPerHour.mean)) / Math.max(1e-9, e(s).keyKbps.mean);
    return `| ${o.hosts} | ${o.topology} | ${o.telemetry} | ${o.load} | ${f(e(seed).keysLowMigrationsPerHour.mean)} / ${f(e(seed).overloadMigrationsPerHour.mean)} / ${f(e(seed).refillingMigrationsPerHour.mean)} | ${f(e(o).keysLowMigrationsPerHour.mean)} / ${f(e(o).overloadMigrationsPerHour.mean)} / ${f(e(o).refillingMigrationsPerHour.mean)} / ${f(e(o).outlastedMigrationsPerHour.mean)} | ${f(e(nh).migrationsPerHour.mean)} | ${f(e(ss).droppedPerHour.mean)} / ${f(e(seed).droppedPerHour.mean)} | ${f(e(st).droppedPerHour.mean)} / ${f(e(o).droppedPerHour.mean)} / ${f(e(nh).droppedPerHour.mean)} | ${e(seed).keyKbps.mean.toFixed(0)} / ${e(o).keyKbps.mean.toFixed(0)} | ${f(displaced(seed))} / ${f(displaced(st))} / ${f(displaced(o))} |`;
  });
  return `Migrations by trigger, per hour (mean over seeds): the seed's KeysLow / HostOverloaded / of those,
moves off a path that was in truth refilling; ours's KeysLow / HostOverloaded / off a refilling path /
off a draining path that would have recovered before running dry; dropped contexts per hour with and
without each trigger; the key each carries; and the contexts displaced (moved + dropped per hour) per
100 kb/s of key carried:

| hosts | keys | telemetry | load | seed KeysLow / Overloaded / refilling | ours KeysLow / Overloaded / refilling / outlasted | ours-no-horizon migrations | dropped: seed-static / seed | dropped: static / ours / ours-no-horizon | key kb/s: seed / ours | displaced per 100 kb/s: seed / static / ours |
|---|---|---|---|---|---|---|---|---|---|---|
${lines.join('\n')}`;
}

/** The scenarios that miss the migration target: by how much, and what the migrations bought. */
function missedTable(missed: readonly { o: Summary }[], rows: readonly Row[], summaries: readonly Summary[]) {
  if (missed.length === 0) return '';
  const lines = missed.map(({ o }) => {
    const more = paired(rows, o, 'ours', 'seed', (x, y) => x.migrationsPerHour - y.migrationsPerHour);
    const rescued = paired(rows, o, 'static', 'ours', (x, y) => x.droppedPerHour - y.droppedPerHour);
    const blockingVsStatic = paired(rows, o, 'static', 'ours', (x, y) => x.blocking - y.blocking);
    const st = find(summaries, { ...o, policy: 'static' });
    const seed = find(summaries, { ...o, policy: 'seed' });
    const budget = find(summaries, { ...o, policy: 'ours-1-per-round' });
    const necessary = o.est.migrationsPerHour.mean - o.est.outlastedMigrationsPerHour.mean;
    return {
      o,
      noise: more.mean - more.half <= 0,
      staticLosesMore: st.est.droppedPerHour.mean >= o.est.migrationsPerHour.mean,
      necessaryAboveSeed: necessary > seed.est.migrationsPerHour.mean,
      budgetMet: budget.est.migrationsPerHour.mean <= seed.est.migrationsPerHour.mean,
      row: `| ${o.hosts} | ${o.topology} | ${o.telemetry} | ${o.load} | ${range(more, 1, 2)} | ${necessary.toFixed(2)} | ${st.est.droppedPerHour.mean.toFixed(2)} | ${o.est.droppedPerHour.mean.toFixed(2)} | ${range(rescued, 1, 2)} | ${budget.est.migrationsPerHour.mean.toFixed(2)} / ${budget.est.droppedPerHour.mean.toFixed(2)} | ${range(blockingVsStatic, 100, 2)} |`,
    };
  });
  const n = lines.length;
  const count = (f: (l: (typeof lines)[number]) => boolean) => lines.filter(f).length;
  return `Where ours migrates more than the seed, per hour, paired per seed. "Needed" are ours's migrations
less those off a path that would have recovered before running dry (known only to the simulator);
"rescued" is how many fewer contexts per hour ours drops than the same placement without migration
(static), paired; the last column is what a strict "≤" by switching the optimiser off (static) costs
in blocking, paired:

| hosts | keys | telemetry | load | ours − seed migrations/h | ours needed/h | static dropped/h | ours dropped/h | rescued/h | one per round: migrations / dropped per h | static − ours blocking (points) |
|---|---|---|---|---|---|---|---|---|---|---|
${lines.map((l) => l.row).join('\n')}

In ${count((l) => l.noise)} of these ${n} the excess is within its 95% CI of zero: ours and the seed differ by a few
migrations per run, which ${SEEDS.length} seeds cannot tell apart. In ${count((l) => l.necessaryAboveSeed)} of the ${n} ours's needed migrations
alone (each one a context that would otherwise have been dropped) outnumber all of the seed's, and in
${count((l) => l.staticLosesMore)} of the ${n} static, which keeps those contexts in place, drops at least as many contexts an hour as
ours migrates: fewer migrations there means dropped contexts, not fewer disturbances. The seed gets
its lower count by carrying less key (it blocks a third of the arrivals) and by a trigger that rescues
about nothing (seed-static drops as much as the seed; above). A strict "≤" costs no blocking
(static blocks like ours, last column) but the rescued contexts, and a budget of one move per round
meets it in ${count((l) => l.budgetMet)} of the ${n} at the dropped counts shown.`;
}

function interpretation(summaries: readonly Summary[], rows: readonly Row[]): string {
  const head = { ...HEADLINE, load: 0.8 };
  const at = (policy: string) => find(summaries, { ...head, policy });
  const filtering = [
    'random-feasible',
    'least-loaded',
    'power-of-two',
    'best-fit',
    'shortest-path-first',
    'static',
    'ours',
  ];
  const blocks = filtering.map((p) => at(p).est.blocking.mean);
  const seed = at('seed');
  const blind = at('random-blind');
  const bestFit = paired(rows, head, 'best-fit', 'ours', (x, y) => x.blocking - y.blocking);
  const spf = paired(rows, head, 'shortest-path-first', 'ours', (x, y) => x.keyKbps - y.keyKbps);
  const weights = WEIGHTS.map((w) => ({
    w,
    s: find(summaries, { ...WEIGHT_SCENARIO, policy: `w:${w.name}` }),
  }));
  const bestWeights = [...weights].sort((a, b) => a.s.est.lost.mean - b.s.est.lost.mean)[0]!;
  const pathOnly = paired(
    rows,
    WEIGHT_SCENARIO,
    'w:path only',
    'w:default',
    (x, y) => x.blocking - y.blocking,
  );
  const blockingInsideCi = WEIGHTS.every((w) => {
    const d = paired(rows, WEIGHT_SCENARIO, `w:${w.name}`, 'w:default', (x, y) => x.blocking - y.blocking);
    return Math.abs(d.mean) <= d.half;
  });
  return `## What it means for an operator

- **Keys decide, and the seed cannot see them.** With SKR(L) over 5–50 km and 1–8 kb/s per context, a
  host's QKD path carries fewer contexts than its CPU in most instances. The seed sees key
  *availability*, which stays near 1 until a link is over-committed, not key *rates*; so it keeps
  sending contexts to paths with no spare rate and they fail at the first key request: in the
  headline scenario ${pct(seed.est.misplaced.mean / seed.est.blocking.mean, 0)} of its blocked arrivals went to a host or path
  that was already full, and it blocks ${pct(seed.est.blocking.mean)} against ${pct(blind.est.blocking.mean)} for blind random.
  Charging each context's key rate on every hop of its path, as the operator's filter does, is where
  the reduction comes from; every policy that uses that filter gets most of it.
- **Among the filtering policies the choice rule is second-order**: their blocking spans
  ${pct(Math.min(...blocks))}–${pct(Math.max(...blocks))} in the headline scenario. Best-fit (consolidate) is
  ${range(bestFit, 100, 2)} points against ours there (paired), shortest-path-first draws
  ${range(spf, 1, 1)} kb/s of key against ours (relays pay per hop); both leave hosts less balanced
  (Jain's index), which matters when a host must shed load.
- **Stale telemetry costs little** for policies that run in the operator, because the operator adds
  the estimate of every context placed since the last measurement and derives committed key rates
  from placed contexts; compare the fresh and stale columns above.
- **Against the optimum** the gap is the price of deciding online plus the operator's load estimate,
  which charges each context as if it ran on the smallest host (\`loadPerContext\` over the smallest
  host's memory), so large hosts are under-used; it widens with load.
- **Weights.** In the headline scenario the lowest loss (blocked + dropped) came with
  "${bestWeights.w.name}" (${pct(bestWeights.s.est.lost.mean)}); "path only" blocks ${range(pathOnly, 100, 2)} points
  against the default (paired). ${blockingInsideCi ? 'Every paired blocking difference to the default is within its 95% CI of zero' : 'Some paired blocking differences to the default are outside their 95% CI of zero (table above)'}:
  weights tune key use and balance far more than blocking. An operator
  short of key (long fibre, many relays) gains most from a higher path weight, which prefers 1-hop
  hosts and draws less key per context; one whose links are often disturbed keeps the headroom weight,
  which leaves key rate to fall back on and saves migrations ("no headroom" row); the load weight
  balances hosts.
`;
}
