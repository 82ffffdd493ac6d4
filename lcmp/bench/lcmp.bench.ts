// `make bench` (lcmp): Mx2 create-context latency at a fixed offered rate (open loop, timed from each
// create's scheduled start, so a stall is charged to every create it delays) and the most creations
// per second a closed loop sustains — end to end: Mx2 + AAA, the AppContext write, the operator's
// placement and (first-time) action deploy, the status back through the LCMP's informer — next to
// raw apiserver creates measured the same two ways in the same run. The operator and the LCMP
// authenticate with ServiceAccount tokens, as in a cluster (the raw creates with the admin's client
// certificate). During the closed loop it also counts what each created context costs: apiserver
// requests and watch events of the operator and the LCMP (from their /metrics), and CPU of every
// process on the path. LCMP_BENCH_CPU_PROF=<dir>
// writes V8 CPU profiles of the operator and the LCMP (`--cpu-prof`) there, and the kube-apiserver's
// pprof CPU profiles of the Mx2 closed loop and of raw creates, each with the number of operations it
// covered (`npx tsx lcmp/bench/pprof-breakdown.ts <dir>/kube-apiserver.pprof=<ops>` splits it by stage).
import { writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { report, summarise } from '@mecqkd/common/bench';
import { parseExposition } from '@mecqkd/common/exposition';
import { toKubeYaml } from '@mecqkd/common/kube-yaml';
import { freePort } from '@mecqkd/common/ports';
import { cpuSpent, sampleCpu } from '@mecqkd/common/proc-cpu';
import { startProcess, stopAll, waitUntil } from '@mecqkd/common/process';
import { APP_CONTEXTS } from '@mecqkd/crds/api-resources';
import { createKubeClient } from '@mecqkd/kube/kube-client';
import { collectionPath } from '@mecqkd/kube/kube-paths';
import { kubeconfigYaml } from '@mecqkd/localenv/kubeconfig';
import { type MecTestbed, startMecTestbed } from '@mecqkd/localenv/mec-testbed';
import { stopShared } from '@mecqkd/localenv/shared';
import { Agent, request } from 'undici';
import { hashSecret } from '../src/auth/secret-hash.ts';

const RATE = Number(process.env.LCMP_BENCH_RATE ?? 50);
const SECONDS = Number(process.env.LCMP_BENCH_SECONDS ?? 10);
const MAX_N = Number(process.env.LCMP_BENCH_MAX_N ?? 1500);
const CONCURRENCY = 32;
const APPS = 5;
const NS = 'lcmp-bench';
const CPU_PROF = process.env.LCMP_BENCH_CPU_PROF;
const PROFILE_SECONDS = 10;
// LCMP_BENCH_NODE_ARGS: V8 flags for the operator and the LCMP (e.g. --max-semi-space-size=32)
const nodeArgs = [
  ...(CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROF] : []),
  ...(process.env.LCMP_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
];

/** A process's /metrics, read as the sum of one metric's series whose labels `match`. */
async function scrape(port: number) {
  const series = parseExposition(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
  return (name: string, match: (l: Record<string, string>) => boolean = () => true) =>
    series.filter((s) => s.name === name && match(s.labels)).reduce((a, s) => a + s.value, 0);
}

/** What a process's /metrics says it asked of the apiserver and saw from it, so far. */
async function apiserverTraffic(port: number) {
  const sum = await scrape(port);
  return {
    requests: sum('rest_client_requests_total', (l) => l.method !== 'WATCH'),
    writes: sum('rest_client_requests_total', (l) =>
      ['POST', 'PUT', 'PATCH', 'DELETE'].includes(l.method ?? ''),
    ),
    events: sum('mecqkd_informer_events_total'),
    reconciles: sum('controller_runtime_reconcile_total'),
  };
}
/**
 * A process's GC and event-loop stalls so far (prom-client's defaults on its /metrics): GC time by
 * kind, GC pauses of 10 ms or more, and the longest event-loop lag since the last scrape (the
 * monitor resets at each).
 */
async function stalls(port: number) {
  const one = await scrape(port);
  return {
    majorGcMs: one('nodejs_gc_duration_seconds_sum', (l) => l.kind === 'major') * 1000,
    minorGcMs: one('nodejs_gc_duration_seconds_sum', (l) => l.kind === 'minor') * 1000,
    longGcPauses:
      one('nodejs_gc_duration_seconds_count') -
      one('nodejs_gc_duration_seconds_bucket', (l) => l.le === '0.01'),
    lagMaxMs: one('nodejs_eventloop_lag_max_seconds') * 1000,
  };
}

/** GET `path` of the apiserver as the admin user (pprof, /metrics). */
function apiserverGet(server: string, tls: { ca: string; cert: string; key: string }, path: string) {
  return new Promise<Buffer>((resolve, reject) => {
    const req = httpsRequest(`${server}${path}`, tls, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks)));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Requests the apiserver answered so far, by "VERB resource[/subresource]", and watch events it sent. */
async function apiserverRequests(server: string, tls: { ca: string; cert: string; key: string }) {
  const series = parseExposition((await apiserverGet(server, tls, '/metrics')).toString());
  const out = new Map<string, number>();
  for (const s of series) {
    if (s.name === 'apiserver_request_total' && s.labels.verb !== 'WATCH') {
      const { verb, resource, subresource } = s.labels;
      const key = `${verb} ${resource}${subresource ? `/${subresource}` : ''}`;
      out.set(key, (out.get(key) ?? 0) + s.value);
    }
    if (s.name === 'apiserver_watch_events_total') {
      const key = `watch events sent: ${s.labels.kind ?? s.labels.resource}`;
      out.set(key, (out.get(key) ?? 0) + s.value);
    }
  }
  return out;
}

/**
 * A kubeconfig of a ServiceAccount's token, as the operator and the LCMP authenticate in a cluster:
 * the apiserver caches a verified token, where it verifies a client certificate's chain on every
 * request. Bound to cluster-admin: the bench measures the path, not the chart's RBAC.
 */
async function serviceAccountKubeconfig(tb: MecTestbed, name: string): Promise<string> {
  await tb.kubectl(['create', 'serviceaccount', name]);
  await tb.kubectl([
    'create',
    'clusterrolebinding',
    `${NS}-${name}`,
    '--clusterrole=cluster-admin',
    `--serviceaccount=${NS}:${name}`,
  ]);
  const token = (await tb.kubectl(['create', 'token', name, '--duration=2h'])).trim();
  const path = join(tb.dir, `kubeconfig-${name}`);
  writeFileSync(path, kubeconfigYaml({ name, server: tb.cp.server, caPem: tb.cp.caPem, token }), {
    mode: 0o600,
  });
  return path;
}

type Traffic = Awaited<ReturnType<typeof apiserverTraffic>>;
const perContext = (a: Traffic, b: Traffic, n: number) =>
  Object.fromEntries(Object.entries(b).map(([k, v]) => [k, (v - a[k as keyof Traffic]) / n])) as Traffic;

/** `op(due)` started every 1/rate s for `seconds`; latencies from each scheduled start. */
async function openLoop(rate: number, seconds: number, op: () => Promise<void>): Promise<number[]> {
  const latencies: number[] = [];
  const interval = 1000 / rate;
  const start = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i * interval < seconds * 1000; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    inFlight.push(op().then(() => void latencies.push(performance.now() - due)));
  }
  await Promise.all(inFlight);
  return latencies;
}

/**
 * `n` operations by `CONCURRENCY` clients back to back: operations per second. `progress.done` counts
 * the finished ones as they finish (what a profile taken meanwhile covered).
 */
async function closedLoop(n: number, op: () => Promise<void>, progress = { done: 0 }): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < n) {
        await op();
        progress.done++;
      }
    }),
  );
  return n / ((performance.now() - t0) / 1000);
}

async function main(): Promise<void> {
  const tb = await startMecTestbed({
    namespace: NS,
    hosts: [
      { name: 'host-1', capacityMb: 1 << 20 },
      { name: 'host-2', capacityMb: 1 << 20 },
    ],
  }).catch(async (err) => {
    // the shared control plane and Redis would keep the process alive after the failure
    await stopShared();
    await stopAll();
    throw err;
  });
  const kube = await createKubeClient({ kubeconfigPath: tb.cp.kubeconfigPath, connections: CONCURRENCY });
  try {
    const apps = Array.from({ length: APPS }, (_, a) => ({
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
        // many contexts per host: the bench measures the path, not capacity limits
        placement: { expectedInvocationsPerSecond: 0.001, maxLoad: 1, minKeyAvailability: 0 },
      },
    }));
    const secret = 'bench-client-secret-0123456789';
    const client = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'bench-client', labels: { 'mecqkd.io/lcmp-client': 'true' } },
      stringData: {
        clientId: 'bench',
        secretHash: await hashSecret(secret),
        devAppIds: '*',
        apps: '*',
        kmeId: tb.clientKmeId,
        saeId: tb.clientSae.id,
      },
    };
    await tb.kubectl(['apply', '-f', '-'], [...apps, client].map((d) => toKubeYaml(d)).join('---\n'));

    const root = join(import.meta.dirname, '..', '..');
    const operatorKubeconfig = await serviceAccountKubeconfig(tb, 'operator');
    const lcmpKubeconfig = await serviceAccountKubeconfig(tb, 'lcmp');
    const operatorHealth = await freePort();
    const operator = startProcess({
      name: 'bench-operator',
      command: process.execPath,
      args: [
        ...nodeArgs,
        join(root, 'operator', 'bin', 'operator.mjs'),
        ...['--kubeconfig', operatorKubeconfig, '--namespace', NS, '--redis-url', tb.redis.url],
        ...['--lease-namespace', NS, '--health-port', String(operatorHealth), '--workers', '32'],
        ...['--optimise-period', '0', '--telemetry-period', '1', '--probe-period', '2'],
        // the testbed's whisk-sims speak plain HTTP; actions are wrapped as in a real deployment
        ...['--allow-insecure-hosts', '--health-address', '127.0.0.1'],
        ...[
          '--wrapper-secret-file',
          tb.secure.wrapperSecretFile,
          '--host-sae-ca-file',
          tb.secure.hostSaeCaFile,
        ],
      ],
      env: { ...process.env, LOG_LEVEL: 'warn' },
      logFile: join(tb.dir, 'logs', 'operator.log'),
    });
    const lcmpPort = await freePort();
    const lcmpHealth = await freePort();
    const lcmp = startProcess({
      name: 'bench-lcmp',
      command: process.execPath,
      args: [
        ...nodeArgs,
        join(root, 'lcmp', 'bin', 'lcmp.mjs'),
        ...['--kubeconfig', lcmpKubeconfig, '--namespace', NS, '--token-endpoint', 'true'],
        ...['--port', String(lcmpPort), '--health-port', String(lcmpHealth), '--kube-connections', '32'],
        // a loaded machine may take seconds to place: the bench measures cost, not the deadline
        ...['--place-timeout', '30', '--rate-limit', '0'],
      ],
      env: { ...process.env, LOG_LEVEL: 'warn' },
      logFile: join(tb.dir, 'logs', 'lcmp.log'),
    });
    await waitUntil('LCMP ready', async () => (await fetch(`http://127.0.0.1:${lcmpHealth}/readyz`)).ok, {
      timeoutMs: 60_000,
      process: lcmp,
    });
    await waitUntil(
      'MecHosts Ready with telemetry',
      async () => {
        const hosts = JSON.parse(await tb.kubectl(['get', 'mechosts', '-o', 'json'])).items as {
          status?: { load?: number; conditions?: { type: string; status: string }[] };
        }[];
        return hosts.every(
          (h) =>
            h.status?.load !== undefined &&
            h.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        );
      },
      { timeoutMs: 120_000, intervalMs: 500, process: operator },
    );

    const base = `http://127.0.0.1:${lcmpPort}`;
    const dispatcher = new Agent({ connections: CONCURRENCY * 2, keepAliveTimeout: 30_000 });
    const tokenRes = await request(`${base}/oauth2/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`bench:${secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
      dispatcher,
    });
    const token = ((await tokenRes.body.json()) as { access_token: string }).access_token;
    let seq = 0;
    let failures = 0;
    const createContext = async () => {
      const app = `model-${seq++ % APPS}`;
      const res = await request(`${base}/dev_app/v1/app_contexts`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          associateDevAppId: 'bench',
          appInfo: { appName: app, appProvider: 'bench', appDVersion: '1', userAppInstanceInfo: [{}] },
        }),
        dispatcher,
      });
      await res.body.dump();
      if (res.statusCode !== 201) failures++;
    };
    let raw = 0;
    const rawCreate = async () => {
      await kube.create(collectionPath({ group: '', version: 'v1', plural: 'configmaps' }, NS), {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `raw-${raw++}` },
        data: { n: String(raw) },
      });
    };

    // warm-up: first-time deploys of every app on the hosts, connections opened
    await openLoop(RATE, 2, createContext);
    await openLoop(RATE, 2, rawCreate);
    const rawAtRate = summarise(await openLoop(RATE, SECONDS, rawCreate));
    const stallsBefore = await Promise.all([stalls(operatorHealth), stalls(lcmpHealth)]);
    const mx2AtRate = summarise(await openLoop(RATE, SECONDS, createContext));
    const stallsAtRate = (await Promise.all([stalls(operatorHealth), stalls(lcmpHealth)])).map((after, i) => {
      const before = stallsBefore[i]!;
      return {
        majorGcMs: after.majorGcMs - before.majorGcMs,
        minorGcMs: after.minorGcMs - before.minorGcMs,
        longGcPauses: after.longGcPauses - before.longGcPauses,
        lagMaxMs: after.lagMaxMs,
      };
    });
    const adminTls = { ca: tb.cp.caPem, cert: tb.cp.admin.cert, key: tb.cp.admin.key };
    // the apiserver's pprof CPU profile of PROFILE_SECONDS, and how many operations it covered
    const profileApiserver = async (name: string, progress: { done: number }) => {
      const from = progress.done;
      const prof = await apiserverGet(
        tb.cp.server,
        adminTls,
        `/debug/pprof/profile?seconds=${PROFILE_SECONDS}`,
      );
      writeFileSync(join(CPU_PROF!, `${name}.pprof`), prof);
      writeFileSync(join(CPU_PROF!, `${name}.ops`), `${progress.done - from}\n`);
      console.log(`${name}.pprof covers ${progress.done - from} operations`);
    };
    if (CPU_PROF) {
      // raw creates for as long as their profile runs, to compare with the Mx2 context's
      const progress = { done: 0 };
      const prof = profileApiserver('kube-apiserver-raw', progress);
      let profiling = true;
      void prof.finally(() => {
        profiling = false;
      });
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (profiling) {
            await rawCreate();
            progress.done++;
          }
        }),
      );
      await prof;
    }
    const rawCpuBefore = sampleCpu(tb.cp.pids.apiserver);
    const rawMax = await closedLoop(MAX_N, rawCreate);
    const rawApiserverCpu = cpuSpent(rawCpuBefore, sampleCpu(tb.cp.pids.apiserver)).selfMs / MAX_N;
    const pids = {
      operator: operator.pid,
      lcmp: lcmp.pid,
      apiserver: tb.cp.pids.apiserver,
      etcd: tb.cp.pids.etcd,
    };
    const cpuBefore = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, sampleCpu(pid)]));
    const benchCpuBefore = process.cpuUsage();
    const [opBefore, lcmpBefore] = await Promise.all([
      apiserverTraffic(operatorHealth),
      apiserverTraffic(lcmpHealth),
    ]);
    const requestsBefore = await apiserverRequests(tb.cp.server, adminTls);
    const mx2Progress = { done: 0 };
    const apiserverProf = CPU_PROF ? profileApiserver('kube-apiserver', mx2Progress) : undefined;
    // the closed loop's window on the monotonic clock V8's --cpu-prof timestamps use (µs)
    const windowStartUs = process.hrtime.bigint() / 1000n;
    const mx2Max = await closedLoop(MAX_N, createContext, mx2Progress);
    const windowEndUs = process.hrtime.bigint() / 1000n;
    await apiserverProf;
    if (CPU_PROF)
      writeFileSync(
        join(CPU_PROF, 'closed-loop.json'),
        JSON.stringify({ startUs: String(windowStartUs), endUs: String(windowEndUs), contexts: MAX_N }),
      );
    const requestsAfter = await apiserverRequests(tb.cp.server, adminTls);
    const [opAfter, lcmpAfter] = await Promise.all([
      apiserverTraffic(operatorHealth),
      apiserverTraffic(lcmpHealth),
    ]);
    const benchCpu = process.cpuUsage(benchCpuBefore);
    const cpuMs = Object.fromEntries(
      Object.entries(pids).map(([k, pid]) => [k, cpuSpent(cpuBefore[k]!, sampleCpu(pid)).selfMs / MAX_N]),
    ) as Record<keyof typeof pids, number>;
    // what every write decodes and re-encodes, and every watch event carries
    const sample = (await kube.list(collectionPath(APP_CONTEXTS, NS), { pageSize: 1 })).items[0];
    const contextBytes = Buffer.byteLength(JSON.stringify(sample));
    if (CPU_PROF) writeFileSync(join(CPU_PROF, 'appcontext.json'), JSON.stringify(sample, null, 2));
    const op = perContext(opBefore, opAfter, MAX_N);
    const lc = perContext(lcmpBefore, lcmpAfter, MAX_N);

    report(
      'lcmp',
      [
        {
          metric: `Mx2 create-context p50 at ${RATE}/s (open loop)`,
          value: mx2AtRate.p50,
          unit: 'ms',
          target: '<= 25',
        },
        {
          metric: `Mx2 create-context p99 at ${RATE}/s (open loop)`,
          value: mx2AtRate.p99,
          unit: 'ms',
          target: '<= 100',
        },
        { metric: `Mx2 create-context max at ${RATE}/s`, value: mx2AtRate.max, unit: 'ms' },
        ...(['operator', 'LCMP'] as const).flatMap((name, i) => {
          const st = stallsAtRate[i]!;
          return [
            { metric: `${name} major GC time at ${RATE}/s`, value: st.majorGcMs, unit: 'ms' },
            { metric: `${name} minor GC time at ${RATE}/s`, value: st.minorGcMs, unit: 'ms' },
            { metric: `${name} GC pauses of 10 ms or more at ${RATE}/s`, value: st.longGcPauses, unit: '' },
            { metric: `${name} longest event-loop lag at ${RATE}/s`, value: st.lagMaxMs, unit: 'ms' },
          ];
        }),
        { metric: `raw apiserver create p50 at ${RATE}/s`, value: rawAtRate.p50, unit: 'ms' },
        { metric: `raw apiserver create p99 at ${RATE}/s`, value: rawAtRate.p99, unit: 'ms' },
        {
          metric: `Mx2 creations/s sustained (${CONCURRENCY} clients)`,
          value: mx2Max,
          unit: '/s',
          target: '>= 150',
        },
        { metric: `raw apiserver creates/s (${CONCURRENCY} clients)`, value: rawMax, unit: '/s' },
        { metric: 'Mx2 creations as a fraction of raw creates', value: mx2Max / rawMax, unit: '' },
        { metric: 'Mx2 creates not answered 201', value: failures, unit: '', target: '<= 0' },
        { metric: 'AppContext size as stored (JSON)', value: contextBytes, unit: 'B' },
        { metric: 'operator apiserver requests per context', value: op.requests, unit: '' },
        { metric: 'operator apiserver writes per context', value: op.writes, unit: '' },
        { metric: 'operator watch events per context', value: op.events, unit: '' },
        { metric: 'operator reconciles per context', value: op.reconciles, unit: '' },
        { metric: 'LCMP apiserver requests per context', value: lc.requests, unit: '' },
        { metric: 'LCMP apiserver writes per context', value: lc.writes, unit: '' },
        { metric: 'LCMP watch events per context', value: lc.events, unit: '' },
        { metric: 'LCMP reconciles per context', value: lc.reconciles, unit: '' },
        // what the apiserver served per context, by verb and resource (every client, the bench's too)
        ...[...requestsAfter]
          .map(([key, v]) => ({ key, value: (v - (requestsBefore.get(key) ?? 0)) / MAX_N }))
          .filter((r) => r.value >= 0.01)
          .map((r) => ({ metric: `apiserver: ${r.key} per context`, value: r.value, unit: '' })),
        { metric: 'operator CPU per context', value: cpuMs.operator, unit: 'ms' },
        { metric: 'LCMP CPU per context', value: cpuMs.lcmp, unit: 'ms' },
        { metric: 'kube-apiserver CPU per context', value: cpuMs.apiserver, unit: 'ms' },
        { metric: 'etcd CPU per context', value: cpuMs.etcd, unit: 'ms' },
        { metric: 'kube-apiserver CPU per raw create', value: rawApiserverCpu, unit: 'ms' },
        {
          metric: 'bench client CPU per context',
          value: (benchCpu.user + benchCpu.system) / 1000 / MAX_N,
          unit: 'ms',
        },
      ],
      {
        rate: RATE,
        seconds: SECONDS,
        maxN: MAX_N,
        concurrency: CONCURRENCY,
        apps: APPS,
        loadavg: loadavg(),
      },
    );
    console.log(
      `load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    await dispatcher.close();
    await lcmp.stop();
    await operator.stop();
  } finally {
    await kube.close();
    await tb.stop();
    await stopShared();
    await stopAll();
  }
}

main().catch((err) => {
  console.error(`lcmp bench failed: ${(err as Error).message}`);
  process.exitCode = 1;
});
