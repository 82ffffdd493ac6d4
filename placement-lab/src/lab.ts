// `make lab`: the sweep, the weight study and the offline-optimum study on worker threads, then the
// CSVs, the SVG plots and the report under docs/. LAB_WORKERS (default 2) sets the threads;
// LAB_REPORT_ONLY=1 rewrites the outputs from the last run's results (.lab/results.json) without
// simulating, for work on the report itself.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fluidCapacity } from './milp.ts';
import { type OptimumRow, optimumTasks } from './optimum.ts';
import { type Job, runPool } from './pool.ts';
import { headlineTable, plots, report } from './report.ts';
import { rowsCsv, summarise, summaryCsv } from './summary.ts';
import { instanceOf, type Row, SEEDS, scenarios, type Task, WEIGHT_SCENARIO, WEIGHTS } from './sweep.ts';

const root = process.env.MECQKD_ROOT ?? process.cwd();
const docs = join(root, 'docs');
const assets = join(docs, 'placement-lab');
const raw = join(root, '.lab');
const workers = Number(process.env.LAB_WORKERS ?? 2);
const started = Date.now();

async function simulateAll(): Promise<{ rows: Row[]; optimum: OptimumRow[]; seconds: number }> {
  const tasks: Task[] = [];
  for (const scenario of scenarios())
    for (const seed of SEEDS)
      tasks.push({ scenario, seed, capacity: await fluidCapacity(instanceOf(scenario, seed)) });
  for (const seed of SEEDS)
    tasks.push({
      scenario: WEIGHT_SCENARIO,
      seed,
      capacity: await fluidCapacity(instanceOf(WEIGHT_SCENARIO, seed)),
      weights: WEIGHTS.map((w) => w.name),
    });
  // the MILPs and the largest scenarios first, so the pool does not end on one long job
  const jobs: Job[] = [
    ...optimumTasks().map((task) => ({ kind: 'optimum' as const, task })),
    ...tasks
      .sort((a, b) => b.scenario.hosts - a.scenario.hosts)
      .map((task) => ({ kind: 'sweep' as const, task })),
  ];
  const results = await runPool(jobs, workers);
  const rows: Row[] = results.filter((r): r is Row[] => Array.isArray(r)).flat();
  const optimum = results.filter((r): r is OptimumRow => !Array.isArray(r));
  return { rows, optimum, seconds: (Date.now() - started) / 1000 };
}

const saved = join(raw, 'results.json');
const { rows, optimum, seconds } =
  process.env.LAB_REPORT_ONLY === '1'
    ? (JSON.parse(await readFile(saved, 'utf8')) as Awaited<ReturnType<typeof simulateAll>>)
    : await simulateAll();
const summaries = summarise(rows);

await mkdir(assets, { recursive: true });
await mkdir(raw, { recursive: true });
await writeFile(join(raw, 'runs.csv'), rowsCsv(rows));
await writeFile(saved, JSON.stringify({ rows, optimum, seconds }));
await writeFile(join(assets, 'summary.csv'), summaryCsv(summaries));
await writeFile(
  join(assets, 'optimum.csv'),
  `load,seed,arrivals,optimum,${Object.keys(optimum[0]?.admitted ?? {}).join(',')}\n${optimum
    .map((o) => [o.load, o.seed, o.arrivals, o.optimum, ...Object.values(o.admitted)].join(','))
    .join('\n')}\n`,
);
for (const [name, svg] of await plots(summaries, optimum)) await writeFile(join(assets, name), svg);
await writeFile(join(docs, 'placement-lab.md'), report(summaries, rows, optimum, { seconds, workers }));
process.stdout.write(`${headlineTable(summaries)}\n`);
process.stdout.write(
  `placement-lab: ${rows.length} runs and ${optimum.length} MILPs in ${seconds.toFixed(0)} s on ${workers} workers; ` +
    `wrote docs/placement-lab.md, docs/placement-lab/*.svg, docs/placement-lab/summary.csv, .lab/runs.csv\n`,
);
