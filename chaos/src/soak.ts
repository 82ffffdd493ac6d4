// `make soak`: the chaos run's steady workload without faults for SOAK_MINUTES (default 30),
// sampling every part's RSS and open descriptors (/proc), the operators' and the LCMP's V8 heap
// (their /metrics) and the p99 latencies of Mx2 calls and invocations; prints the series' slopes
// (least squares, per hour) and writes .bench/soak.json.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopAll } from '@mecqkd/common/process';
import { seededRng } from './rng.ts';
import { startWorkload } from './workload.ts';
import { startChaosWorld } from './world.ts';

const MINUTES = Number(process.env.SOAK_MINUTES ?? 30);
const SAMPLE_MS = Number(process.env.SOAK_SAMPLE_SECONDS ?? 15) * 1000;
const root = join(import.meta.dirname, '..', '..');

function rssBytes(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

function openFds(pid: number): number | undefined {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

async function heapBytes(metricsUrl: string): Promise<number | undefined> {
  try {
    const text = await (await fetch(metricsUrl)).text();
    const m = /^nodejs_heap_size_used_bytes(?:\{[^}]*\})? (\S+)$/m.exec(text);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export function p99(xs: number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(0.99 * s.length) - 1)];
}

/** Least-squares slope of (t ms, y) per hour. */
export function slopePerHour(points: { t: number; y: number }[]): number | undefined {
  if (points.length < 3) return undefined;
  const n = points.length;
  const mt = points.reduce((s, p) => s + p.t, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const num = points.reduce((s, p) => s + (p.t - mt) * (p.y - my), 0);
  const den = points.reduce((s, p) => s + (p.t - mt) ** 2, 0);
  return den === 0 ? 0 : (num / den) * 3_600_000;
}

const dir = mkdtempSync(join(tmpdir(), 'mecqkd-soak-'));
console.log(`soak: ${MINUTES} min, sampling every ${SAMPLE_MS / 1000} s; logs in ${dir}`);
const world = await startChaosWorld(dir);
const workload = startWorkload(world, seededRng(Number(process.env.CHAOS_SEED ?? 30)), {
  devices: 2,
  contextsPerDevice: 3,
  mx2PeriodMs: [300, 1500],
  invokePeriodMs: 150,
});
const parts = (): Record<string, number | undefined> => ({
  'operator-a': world.operators['operator-a']!.current()?.pid,
  'operator-b': world.operators['operator-b']!.current()?.pid,
  lcmp: world.lcmp.supervisor.current()?.pid,
  kmes: world.kmes.current()?.pid,
  redis: world.redis.supervisor.current()?.pid,
  'kube-apiserver': world.controlPlane['kube-apiserver'].current()?.pid,
  etcd: world.controlPlane.etcd.current()?.pid,
  ...Object.fromEntries(world.tb.hosts.map((h) => [`whisk ${h.name}`, world.whisks[h.name]!.current()?.pid])),
  ...Object.fromEntries(
    world.tb.hosts.map((h) => [`host-sae ${h.name}`, world.hostSaes[h.name]!.current()?.pid]),
  ),
});
type Series = Record<string, { t: number; y: number }[]>;
const series: { rss: Series; fds: Series; heap: Series; p99: Series } = {
  rss: {},
  fds: {},
  heap: {},
  p99: {},
};
const add = (s: Series, k: string, t: number, y: number | undefined) => {
  if (y === undefined) return;
  s[k] ??= [];
  s[k].push({ t, y });
};
const t0 = Date.now();
let last = t0;
while (Date.now() - t0 < MINUTES * 60_000) {
  await new Promise((r) => setTimeout(r, SAMPLE_MS));
  const t = Date.now() - t0;
  for (const [name, pid] of Object.entries(parts())) {
    if (pid === undefined) continue;
    add(series.rss, name, t, rssBytes(pid));
    add(series.fds, name, t, openFds(pid));
  }
  for (const name of ['operator-a', 'operator-b']) {
    const p = world.operators[name]!.current() as { healthUrl?: string } | undefined;
    if (p?.healthUrl) add(series.heap, name, t, await heapBytes(`${p.healthUrl}/metrics`));
  }
  add(series.heap, 'lcmp', t, await heapBytes(`${world.lcmp.healthUrl}/metrics`));
  for (const what of ['mx2', 'invoke'] as const)
    add(
      series.p99,
      what,
      t,
      p99(workload.latencies.filter((l) => l.what === what && l.t >= last).map((l) => l.ms)),
    );
  last = Date.now();
  console.log(`soak: ${Math.round(t / 1000)} s, ${workload.latencies.length} calls`);
}
await workload.stop();
const mb = (b: number) => b / 2 ** 20;
const rows: string[] = ['| part | metric | first | last | slope per hour |', '|---|---|---|---|---|'];
const slopes: Record<string, number | undefined> = {};
for (const [metric, s, unit] of [
  ['RSS MB', series.rss, mb],
  ['open fds', series.fds, (x: number) => x],
  ['heap MB', series.heap, mb],
  ['p99 ms', series.p99, (x: number) => x],
] as const) {
  for (const [name, pts] of Object.entries(s)) {
    const slope = slopePerHour(pts.map((p) => ({ t: p.t, y: unit(p.y) })));
    slopes[`${name} ${metric}`] = slope;
    rows.push(
      `| ${name} | ${metric} | ${unit(pts[0]!.y).toFixed(1)} | ${unit(pts[pts.length - 1]!.y).toFixed(1)} | ${slope?.toFixed(2) ?? '—'} |`,
    );
  }
}
console.log(rows.join('\n'));
mkdirSync(join(root, '.bench'), { recursive: true });
writeFileSync(
  join(root, '.bench', 'soak.json'),
  `${JSON.stringify({ minutes: MINUTES, slopes, series }, null, 1)}\n`,
);
console.log(`soak: wrote .bench/soak.json`);
await world.stop();
await stopAll();
