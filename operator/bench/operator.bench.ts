// `make bench` (operator): 10,000 AppContexts over 50 MecHosts reach Placed. Reports wall time,
// reconciles/s, apiserver writes per context, peak RSS of the operator process, restart-resync time
// and redundant deploys, next to the raw apiserver create throughput measured in the same run, and
// the time of the pure placement decision for the same scale. Then a scaling curve (1,000 / 10,000 /
// 30,000 contexts over 50 / 50 / 300 hosts, each on a fresh control plane) of wall time, CPU and RSS
// per context, so that growth in cost per context shows.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { type BenchRow, report } from '@mecqkd/common/bench';
import { parseExposition } from '@mecqkd/common/exposition';
import { freePort } from '@mecqkd/common/ports';
import { ownCpuMs } from '@mecqkd/common/proc-cpu';
import { startProcess, stopAll, waitUntil } from '@mecqkd/common/process';
import { type AppContext, GROUP, VERSION } from '@mecqkd/crds';
import { Informer } from '@mecqkd/kube/informer';
import { createKubeClient, type KubeClient } from '@mecqkd/kube/kube-client';
import { collectionPath } from '@mecqkd/kube/kube-paths';
import { startMecTestbed } from '@mecqkd/localenv/mec-testbed';
import { stopShared } from '@mecqkd/localenv/shared';
import { placeBatch } from '../src/placement/place.ts';
import { seededRng } from '../src/placement/rng.ts';
import { DEFAULT_WEIGHTS } from '../src/placement/score.ts';

const CONTEXTS = Number(process.env.BENCH_CONTEXTS ?? 10_000);
const HOSTS = Number(process.env.BENCH_HOSTS ?? 50);
/** `contexts x hosts` pairs of the scaling curve; BENCH_SCALES= (empty) skips it. */
const SCALES = (process.env.BENCH_SCALES ?? '1000x50,10000x50,30000x300')
  .split(',')
  .filter(Boolean)
  .map((s) => {
    const [contexts, hosts] = s.split('x').map(Number);
    if (!contexts || !hosts) throw new Error(`BENCH_SCALES: "${s}" is not <contexts>x<hosts>`);
    return { contexts, hosts };
  });
const APPS = 5;
const CONCURRENCY = 32;
const NS = 'bench';
const APP_CONTEXTS = { group: GROUP, version: VERSION, plural: 'appcontexts' };

async function pool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** Raw apiserver create throughput through a lean keep-alive client, in a namespace of its own. */
async function rawCreates(kube: KubeClient, kubectl: (a: string[]) => Promise<unknown>): Promise<number> {
  await kubectl(['create', 'namespace', 'bench-raw']);
  const n = 3000;
  const t0 = performance.now();
  await pool([...Array(n).keys()], CONCURRENCY, (i) =>
    kube.create(collectionPath({ group: '', version: 'v1', plural: 'configmaps' }, 'bench-raw'), {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `raw-${i}` },
      data: { i: String(i) },
    }),
  );
  return n / ((performance.now() - t0) / 1000);
}

async function metrics(port: number) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const series = parseExposition(text);
  const sum = (name: string, match: (l: Record<string, string>) => boolean = () => true) =>
    series.filter((s) => s.name === name && match(s.labels)).reduce((a, s) => a + s.value, 0);
  return {
    reconciles: sum('controller_runtime_reconcile_total', (l) => l.controller === 'appcontext'),
    writes: sum('rest_client_requests_total', (l) =>
      ['POST', 'PUT', 'PATCH', 'DELETE'].includes(l.method ?? ''),
    ),
    deployed: sum('mecqkd_actions_deployed_total'),
    depth: sum('workqueue_depth', (l) => l.name === 'appcontext'),
  };
}

function peakRssMb(pid: number): number {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/);
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

function placementDecisionMs(): number {
  const hosts = Array.from({ length: HOSTS }, (_, i) => ({
    name: `h${i}`,
    ready: true,
    labels: {},
    kmeId: `K${i % 5}`,
    load: (i % 10) / 40,
    contexts: 0,
    memoryMb: 4096,
  }));
  const links = Array.from({ length: 5 }, (_, i) => ({
    name: `l${i}`,
    ends: ['C', `K${i}`] as [string, string],
    state: 'ACTIVE' as const,
    keyAvailability: 1,
    secretKeyRate: 1e9,
    committedKeyRate: 0,
    fresh: true,
  }));
  const demand = { app: 'a', maxLoad: 1, minKeyAvailability: 0.1, keyRate: 25.6, loadPerContext: 0.0001 };
  const requests = Array.from({ length: CONTEXTS }, (_, i) => ({
    context: `c${i}`,
    clientKmeId: 'C',
    demand,
  }));
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    placeBatch(requests, hosts, links, DEFAULT_WEIGHTS, 'best', seededRng(r));
    runs.push(performance.now() - t0);
  }
  return runs.sort((a, b) => a - b)[2]!;
}

interface ScaleResult {
  rows: BenchRow[];
  wallS: number;
  placedPerS: number;
  rawPerS: number;
  cpuMsPerContext: Record<string, number>;
  rssMb: number;
  heapCapMb: number;
  reconcilesPerContext: number;
}

/** One run on a fresh control plane: `contexts` AppContexts over `hosts` MecHosts to Placed; with
 * `restart`, also the graceful stop and the restart-resync of a second operator. */
async function runScale(contexts: number, hostCount: number, restart: boolean): Promise<ScaleResult> {
  const hosts = Array.from({ length: hostCount }, (_, i) => ({
    name: `host-${i + 1}`,
    kmeId: `KME_EDGE_${i % 5}`,
    whisk: `whisk-${i % 2}`,
    capacityMb: 16384,
    fibreKm: 1,
  }));
  // deployed like a pod with a memory limit: a V8 heap cap makes GC keep RSS near the live set; the
  // limit grows with the cache it must hold
  const heapCapMb = 160 * Math.max(1, Math.ceil(contexts / 10_000));
  const tb = await startMecTestbed({ namespace: NS, hosts });
  const kube = await createKubeClient({ kubeconfigPath: tb.cp.kubeconfigPath, connections: CONCURRENCY });
  const operatorBin = join(import.meta.dirname, '..', 'bin', 'operator.mjs');
  const startOperator = async (name: string) => {
    const port = await freePort();
    const proc = startProcess({
      name,
      command: process.execPath,
      // BENCH_PROFILE=<dir>: V8 CPU profiles of the operator processes, for finding hot spots
      args: [
        `--max-old-space-size=${heapCapMb}`,
        ...(process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : []),
        operatorBin,
        '--kubeconfig',
        tb.cp.kubeconfigPath,
        '--namespace',
        NS,
        '--redis-url',
        tb.redis.url,
        '--lease-namespace',
        NS,
        '--health-port',
        String(port),
        '--health-address',
        '127.0.0.1',
        '--workers',
        '32',
        '--kube-connections',
        '32',
        '--optimise-period',
        '0',
        '--identity',
        name,
        // the testbed's whisk-sims serve plain HTTP
        '--allow-insecure-hosts',
      ],
      env: { ...process.env, LOG_LEVEL: 'warn' },
      logFile: join(tb.dir, 'logs', `${name}.log`),
    });
    await waitUntil(`${name} /readyz`, async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, {
      timeoutMs: 120_000,
      process: proc,
    });
    return { proc, port };
  };
  try {
    const rawPerSecond = await rawCreates(kube, (a) => tb.cp.kubectl(a));
    for (let a = 1; a <= APPS; a++) {
      await tb.kubectl(
        ['apply', '-f', '-'],
        JSON.stringify({
          apiVersion: 'mecqkd.io/v1alpha1',
          kind: 'MecApp',
          metadata: { name: `model-${a}` },
          spec: {
            appInfo: {
              appDId: `model-${a}`,
              appName: `model-${a}`,
              appProvider: 'bench',
              appSoftVersion: '1',
              appDVersion: '1',
              appDescription: 'bench',
            },
            action: { code: `function main() { return { model: ${a} }; }` },
            placement: { expectedInvocationsPerSecond: 0.1, invocationsPerKey: 10 },
          },
        }),
      );
    }
    let op = await startOperator('operator-1');
    await waitUntil(
      'every MecHost Ready with telemetry',
      async () => {
        const list = JSON.parse(await tb.kubectl(['get', 'mechosts', '-o', 'json'])).items as {
          status?: { load?: number; conditions?: { type: string; status: string }[] };
        }[];
        return (
          list.length === hostCount &&
          list.every(
            (h) =>
              h.status?.load !== undefined &&
              h.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
          )
        );
      },
      { timeoutMs: 180_000, intervalMs: 1000 },
    );
    const before = await metrics(op.port);

    // watch progress the way a client would: an informer over the namespace's AppContexts (no zod
    // parse here: this measures the operator, not the observer)
    const placed = new Set<string>();
    const watcher = new Informer<AppContext>({
      name: 'bench',
      client: kube,
      path: collectionPath(APP_CONTEXTS, NS),
    });
    const track = (c: AppContext) => {
      if (c.status?.phase === 'Placed') placed.add(c.metadata.name);
    };
    watcher.on('add', track).on('update', (_, c) => track(c));
    watcher.start();
    await watcher.waitForSync();

    // where the CPU goes while the contexts are placed: the run is CPU-bound on 2 cores
    const cpuPids = { apiserver: tb.cp.pids.apiserver, etcd: tb.cp.pids.etcd, operator: op.proc.pid };
    const cpuBefore = Object.fromEntries(Object.entries(cpuPids).map(([k, pid]) => [k, ownCpuMs(pid)]));
    const benchCpuBefore = process.cpuUsage();
    const t0 = performance.now();
    await pool([...Array(contexts).keys()], CONCURRENCY, (i) =>
      kube.create(collectionPath(APP_CONTEXTS, NS), {
        apiVersion: 'mecqkd.io/v1alpha1',
        kind: 'AppContext',
        // as the LCMP writes it: with the operator's finalizer already in place
        metadata: {
          name: (0x10000000 + i).toString(16).padStart(32, '0'),
          finalizers: ['mecqkd.io/action-cleanup'],
        },
        spec: {
          appName: `model-${(i % APPS) + 1}`,
          associateDevAppId: `dev-${i}`,
          client: { kmeId: tb.clientKmeId, saeId: tb.clientSae.id },
        },
      }),
    );
    const createdMs = performance.now() - t0;
    await waitUntil('all contexts Placed', async () => placed.size === contexts, {
      timeoutMs: 600_000,
      intervalMs: 100,
    });
    const wallMs = performance.now() - t0;
    const benchCpu = process.cpuUsage(benchCpuBefore);
    const cpuPerContext = {
      ...Object.fromEntries(
        Object.entries(cpuPids).map(([k, pid]) => [k, (ownCpuMs(pid) - (cpuBefore[k] as number)) / contexts]),
      ),
      'bench client (creates + watch)': (benchCpu.user + benchCpu.system) / 1000 / contexts,
    };
    const after = await metrics(op.port);
    const rss = peakRssMb(op.proc.pid);

    const placedList = watcher.list(NS);
    await watcher.stop();
    const run = after.reconciles - before.reconciles;
    const rows: BenchRow[] = [
      {
        metric: `wall time, ${contexts} contexts over ${hostCount} hosts to Placed`,
        value: wallMs / 1000,
        unit: 's',
        ...(contexts === 10_000 && hostCount === 50 ? { target: '<= 60' } : {}),
      },
      { metric: 'contexts placed per second', value: contexts / (wallMs / 1000), unit: '/s' },
      { metric: 'creating the contexts (client side)', value: createdMs / 1000, unit: 's' },
      { metric: 'AppContext reconciles per second', value: run / (wallMs / 1000), unit: '/s' },
      { metric: 'AppContext reconciles per context', value: run / contexts, unit: '' },
      {
        metric: 'operator apiserver writes per context',
        value: (after.writes - before.writes) / contexts,
        unit: '',
      },
      { metric: 'raw apiserver creates (lean client, 32 conns)', value: rawPerSecond, unit: '/s' },
      {
        metric: 'placement throughput as a fraction of raw creates',
        value: contexts / (wallMs / 1000) / rawPerSecond,
        unit: '',
      },
      ...Object.entries(cpuPerContext).map(([who, ms]) => ({
        metric: `CPU per context placed: ${who}`,
        value: ms,
        unit: 'ms',
      })),
      {
        metric: `operator peak RSS (heap cap ${heapCapMb} MB)`,
        value: rss,
        unit: 'MB',
        ...(contexts <= 10_000 ? { target: '<= 300' } : {}),
      },
    ];
    if (restart) {
      // distinct (host, action) pairs in use: the deploys that were needed
      const needed = new Set(placedList.map((c) => c.status?.appInstanceId));
      const tStop = performance.now();
      await op.proc.stop('SIGTERM', 60_000);
      const stopMs = performance.now() - tStop;
      const t1 = performance.now();
      op = await startOperator('operator-2');
      await waitUntil(
        'restarted operator reconciled every context',
        async () => {
          const m = await metrics(op.port);
          return m.reconciles >= contexts && m.depth === 0;
        },
        { timeoutMs: 300_000, intervalMs: 200 },
      );
      const resyncMs = performance.now() - t1;
      const resync = await metrics(op.port);

      rows.push(
        { metric: 'graceful stop (SIGTERM to exit)', value: stopMs / 1000, unit: 's' },
        { metric: 'restart-resync time', value: resyncMs / 1000, unit: 's', target: '<= 20' },
        { metric: 'writes during resync', value: resync.writes, unit: '' },
        { metric: 'actions deployed', value: after.deployed + resync.deployed, unit: '' },
        {
          metric: 'redundant deploys',
          value: after.deployed + resync.deployed - needed.size,
          unit: '',
          target: '<= 0',
        },
      );
    }
    await op.proc.stop('SIGTERM', 60_000);
    return {
      rows,
      wallS: wallMs / 1000,
      placedPerS: contexts / (wallMs / 1000),
      rawPerS: rawPerSecond,
      cpuMsPerContext: cpuPerContext,
      rssMb: rss,
      heapCapMb,
      reconcilesPerContext: run / contexts,
    };
  } finally {
    await kube.close();
    await tb.stop();
    // a fresh control plane per scale: the previous run's objects must not weigh on the next
    await stopShared();
  }
}

async function main(): Promise<void> {
  try {
    const headline = await runScale(CONTEXTS, HOSTS, true);
    report(
      'operator',
      [
        ...headline.rows,
        {
          metric: `placement decision, ${CONTEXTS} × ${HOSTS} (pure, median of 5)`,
          value: placementDecisionMs(),
          unit: 'ms',
        },
      ],
      { contexts: CONTEXTS, hosts: HOSTS, apps: APPS, workers: 32, loadavg: loadavg() },
    );
    if (SCALES.length === 0) return;
    const curve: BenchRow[] = [];
    for (const { contexts, hosts } of SCALES) {
      console.log(`scaling curve: ${contexts} contexts over ${hosts} hosts`);
      const r = contexts === CONTEXTS && hosts === HOSTS ? headline : await runScale(contexts, hosts, false);
      const at = `${contexts} / ${hosts}`;
      curve.push(
        { metric: `${at}: wall time`, value: r.wallS, unit: 's' },
        { metric: `${at}: placed per second`, value: r.placedPerS, unit: '/s' },
        { metric: `${at}: as a fraction of raw creates`, value: r.placedPerS / r.rawPerS, unit: '' },
        { metric: `${at}: reconciles per context`, value: r.reconcilesPerContext, unit: '' },
        ...['operator', 'apiserver', 'etcd'].map((who) => ({
          metric: `${at}: CPU per context, ${who}`,
          value: r.cpuMsPerContext[who] ?? Number.NaN,
          unit: 'ms',
        })),
        { metric: `${at}: operator peak RSS (heap cap ${r.heapCapMb} MB)`, value: r.rssMb, unit: 'MB' },
        { metric: `${at}: RSS per context`, value: (r.rssMb * 1024) / contexts, unit: 'KB' },
      );
    }
    report('operator-scaling', curve, { scales: SCALES, loadavg: loadavg() });
  } finally {
    await stopAll();
  }
}

main().catch((err) => {
  console.error(`operator bench failed: ${(err as Error).message}`);
  process.exitCode = 1;
});
