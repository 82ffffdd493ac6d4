// `make soak`: the chaos run's steady workload without faults for SOAK_MINUTES (default 30),
// sampling every part's RSS and open descriptors (/proc), every Node part's V8 heap (its /metrics:
// common/process-metrics.ts), what etcd and the apiserver say of their own memory (etcd-probe.ts,
// apiserver-probe.ts) and the p99 latencies of Mx2
// calls and invocations; prints the series' slopes (least squares, per hour, over the whole run and
// its second half: slopes.ts), what grew in each Node part's live heap between a quarter of the run and
// its end (SOAK_HEAP_SNAPSHOTS=1: V8 heap snapshots, heap-diff.ts) and writes .bench/soak.json.
// Snapshots are off by default: writing one pauses a part for seconds and leaves it 100–150 MB more
// RSS (the snapshot generator's memory, kept by the allocator), so a run with them has no RSS series
// worth reading; it answers the other question, whether live objects pile up.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopAll } from '@mecqkd/common/process';
import { sampleApiserver } from './apiserver-probe.ts';
import { sampleEtcd } from './etcd-probe.ts';
import { type HeapChange, type HeapSnapshot, heapChange, type Kind, kinds } from './heap-diff.ts';
import { seededRng } from './rng.ts';
import { p99, secondHalf, slopePerHour } from './slopes.ts';
import { startWorkload } from './workload.ts';
import { startChaosWorld } from './world.ts';

const MINUTES = Number(process.env.SOAK_MINUTES ?? 30);
const SAMPLE_MS = Number(process.env.SOAK_SAMPLE_SECONDS ?? 15) * 1000;
const HEAP_SNAPSHOTS = process.env.SOAK_HEAP_SNAPSHOTS === '1';
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

/**
 * V8 heap in use, the memory outside it that V8 knows of (Buffers, TLS) — the rest of RSS is code
 * and malloc's — and the young generation's reserved size: V8 doubles it (up to twice
 * --max-semi-space-size) as allocation goes on, so RSS rises in steps while the heap in use is flat.
 */
async function nodeMemory(metricsUrl: string): Promise<{ heap?: number; external?: number; young?: number }> {
  try {
    const text = await (await fetch(metricsUrl)).text();
    const value = (name: string, labels = '(?:\\{[^}]*\\})?') => {
      const m = new RegExp(`^${name}${labels} (\\S+)$`, 'm').exec(text);
      return m ? Number(m[1]) : undefined;
    };
    return {
      heap: value('nodejs_heap_size_used_bytes'),
      external: value('nodejs_external_memory_bytes'),
      young: value('nodejs_heap_space_size_total_bytes', '\\{space="new"\\}'),
    };
  } catch {
    return {};
  }
}

const dir = mkdtempSync(join(tmpdir(), 'mecqkd-soak-'));
console.log(`soak: ${MINUTES} min, sampling every ${SAMPLE_MS / 1000} s; logs in ${dir}`);
const heapDir = join(dir, 'heap-snapshots');
if (HEAP_SNAPSHOTS) {
  // every Node part the world starts inherits this: SIGUSR2 makes it write a snapshot into heapDir
  mkdirSync(heapDir);
  process.env.NODE_OPTIONS = [
    process.env.NODE_OPTIONS,
    '--heapsnapshot-signal=SIGUSR2',
    `--diagnostic-dir=${heapDir}`,
  ]
    .filter(Boolean)
    .join(' ');
}
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
// every Node part's /metrics (the others, redis, etcd and the apiserver, have no V8 heap)
const metricsUrls = (): Record<string, string | undefined> => {
  const operator = (name: string) => {
    const p = world.operators[name]!.current() as { healthUrl?: string } | undefined;
    return p?.healthUrl && `${p.healthUrl}/metrics`;
  };
  return {
    'operator-a': operator('operator-a'),
    'operator-b': operator('operator-b'),
    lcmp: `${world.lcmp.healthUrl}/metrics`,
    // one process serves every KME: any one's /metrics shows the process's heap
    kmes: `${Object.values(world.tb.kmes.kmes)[0]!.opsUrl}/metrics`,
    ...Object.fromEntries(
      world.tb.hosts.map((h) => [`whisk ${h.name}`, world.tb.whisks[h.name]!.metricsUrl]),
    ),
    ...Object.fromEntries(
      world.tb.hosts.map((h) => [
        `host-sae ${h.name}`,
        `${world.tb.secure.hostSaes[h.name]!.opsUrl}/metrics`,
      ]),
    ),
  };
};

/** Live objects of one process by kind, from a snapshot it writes on SIGUSR2 (then deleted). */
async function liveHeap(pid: number): Promise<Map<string, Kind> | undefined> {
  const mine = () => readdirSync(heapDir).filter((f) => f.includes(`.${pid}.`));
  const before = new Set(mine());
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + 120_000;
  let size = -1;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1000));
    const file = mine().find((f) => !before.has(f));
    if (!file) continue;
    const path = join(heapDir, file);
    const now = statSync(path).size;
    if (now > 0 && now === size) {
      const k = kinds(JSON.parse(readFileSync(path, 'utf8')) as HeapSnapshot);
      rmSync(path);
      return k;
    }
    size = now;
  }
  return undefined;
}

async function snapshotAll(): Promise<Record<string, { pid: number; kinds: Map<string, Kind> }>> {
  const out: Record<string, { pid: number; kinds: Map<string, Kind> }> = {};
  const pids = parts();
  for (const name of Object.keys(metricsUrls())) {
    const pid = pids[name];
    const k = pid === undefined ? undefined : await liveHeap(pid);
    if (pid !== undefined && k) out[name] = { pid, kinds: k };
  }
  return out;
}

type Series = Record<string, { t: number; y: number }[]>;
const series: Record<'rss' | 'fds' | 'heap' | 'external' | 'young' | 'p99' | 'etcd' | 'apiserver', Series> = {
  rss: {},
  fds: {},
  heap: {},
  external: {},
  young: {},
  p99: {},
  etcd: {},
  apiserver: {},
};
const add = (s: Series, k: string, t: number, y: number | undefined) => {
  if (y === undefined) return;
  s[k] ??= [];
  s[k].push({ t, y });
};
const mb = (b: number) => b / 2 ** 20;
const t0 = Date.now();
let last = t0;
// the machine is shared: latencies (and CPU-bound growth) are read against its load
const load: { t: number; y: number }[] = [];
// after the warm-up (buffers filling, code being optimised), and again at the end
let firstHeaps: Awaited<ReturnType<typeof snapshotAll>> | undefined;
while (Date.now() - t0 < MINUTES * 60_000) {
  if (HEAP_SNAPSHOTS && !firstHeaps && Date.now() - t0 >= (MINUTES * 60_000) / 4) {
    firstHeaps = await snapshotAll();
    console.log(`soak: heap snapshots of ${Object.keys(firstHeaps).length} Node parts taken`);
  }
  await new Promise((r) => setTimeout(r, SAMPLE_MS));
  const t = Date.now() - t0;
  for (const [name, pid] of Object.entries(parts())) {
    if (pid === undefined) continue;
    add(series.rss, name, t, rssBytes(pid));
    add(series.fds, name, t, openFds(pid));
  }
  for (const [name, url] of Object.entries(metricsUrls())) {
    if (!url) continue;
    const m = await nodeMemory(url);
    add(series.heap, name, t, m.heap);
    add(series.external, name, t, m.external);
    add(series.young, name, t, m.young);
  }
  const etcd = await sampleEtcd(world.cp.etcdUrl, world.controlPlane.etcd.current()?.pid);
  for (const [name, y] of Object.entries(etcd)) add(series.etcd, name, t, y);
  const apiserver = await sampleApiserver(() => world.tb.kubectl(['get', '--raw', '/metrics']));
  for (const [name, y] of Object.entries(apiserver)) add(series.apiserver, name, t, y);
  for (const what of ['mx2', 'invoke'] as const)
    add(
      series.p99,
      what,
      t,
      p99(workload.latencies.filter((l) => l.what === what && l.t >= last).map((l) => l.ms)),
    );
  last = Date.now();
  load.push({ t, y: loadavg()[0]! });
  const mbOf = (k: keyof typeof etcd) => (etcd[k] === undefined ? '?' : mb(etcd[k]).toFixed(1));
  console.log(
    `soak: ${Math.round(t / 1000)} s, load ${loadavg()[0]!.toFixed(1)}, ${workload.latencies.length} calls; etcd rss anon ${mbOf('rss anon')} MB, file ${mbOf('rss file')} MB, heap inuse ${mbOf('heap inuse')} MB, db ${mbOf('db size')}/${mbOf('db in use')} MB, keys ${etcd.keys}, events ${etcd.events}, applied ${etcd['applied proposals']}, snapshots ${etcd.snapshots}, compacted at ${etcd['compact revision']}/${etcd.revision}; apiserver live heap ${apiserver['heap live'] === undefined ? '?' : mb(apiserver['heap live']).toFixed(1)} MB, goroutines ${apiserver.goroutines}, watches ${apiserver.watches}, objects ${apiserver['stored objects']}`,
  );
}
const heapChanges: Record<string, HeapChange> = {};
if (firstHeaps) {
  const lastHeaps = await snapshotAll();
  for (const [name, first] of Object.entries(firstHeaps)) {
    const last = lastHeaps[name];
    if (!last || last.pid !== first.pid) continue; // restarted: nothing to compare
    heapChanges[name] = heapChange(first.kinds, last.kinds);
  }
}
await workload.stop();
const runMs = Date.now() - t0;
const rows: string[] = [
  '| part | metric | first | last | slope per hour | second half, per hour |',
  '|---|---|---|---|---|---|',
];
const slopes: Record<string, { whole?: number; secondHalf?: number }> = {};
const BYTES = new Set([
  'heap inuse',
  'heap alloc',
  'heap live',
  'db size',
  'db in use',
  'rss anon',
  'rss file',
]);
const internals: Series = Object.fromEntries([
  ...Object.entries(series.etcd).map(([k, v]) => [`etcd ${k}`, v]),
  ...Object.entries(series.apiserver).map(([k, v]) => [`kube-apiserver ${k}`, v]),
]);
for (const [metric, s, unit] of [
  ['RSS MB', series.rss, mb],
  ['open fds', series.fds, (x: number) => x],
  ['heap MB', series.heap, mb],
  ['external MB', series.external, mb],
  ['young generation MB', series.young, mb],
  ['p99 ms', series.p99, (x: number) => x],
  ['', internals, mb],
] as const) {
  for (const [name, pts] of Object.entries(s)) {
    const u =
      metric !== '' || BYTES.has(name.replace(/^(etcd|kube-apiserver) /, '')) ? unit : (x: number) => x;
    const label = metric === '' ? (u === unit ? 'MB' : 'count') : metric;
    const scaled = pts.map((p) => ({ t: p.t, y: u(p.y) }));
    const slope = { whole: slopePerHour(scaled), secondHalf: slopePerHour(secondHalf(scaled, runMs)) };
    slopes[`${name} ${label}`] = slope;
    rows.push(
      `| ${name} | ${label} | ${scaled[0]!.y.toFixed(1)} | ${scaled[scaled.length - 1]!.y.toFixed(1)} | ${slope.whole?.toFixed(2) ?? '—'} | ${slope.secondHalf?.toFixed(2) ?? '—'} |`,
    );
  }
}
console.log(rows.join('\n'));
if (firstHeaps) {
  const kb = (b: number) => `${(b / 1024).toFixed(0)} KB`;
  console.log(
    [
      `\nLive heap (V8 snapshots, after a full GC) from ${MINUTES / 4} min to the end:`,
      '| part | live MB at first | change | of it V8 code and metadata | grown most (kind: count, size) |',
      '|---|---|---|---|---|',
      ...Object.entries(heapChanges).map(
        ([name, c]) =>
          `| ${name} | ${mb(c.liveBytes).toFixed(1)} | ${kb(c.bytes)} | ${kb(c.v8Bytes)} | ${c.grown.map((g) => `${g.kind} ${g.count >= 0 ? '+' : ''}${g.count}, ${kb(g.bytes)}`).join('; ')} |`,
      ),
    ].join('\n'),
  );
}
const loads = load.map((l) => l.y);
console.log(`soak: load average (1 min) ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`);
mkdirSync(join(root, '.bench'), { recursive: true });
writeFileSync(
  join(root, '.bench', 'soak.json'),
  `${JSON.stringify({ minutes: MINUTES, slopes, series, load, heapChanges }, null, 1)}\n`,
);
console.log(`soak: wrote .bench/soak.json`);
await world.stop();
await stopAll();
