// Secure vs plain invocation of the same action (the cardiovascular model, 1 KiB of arguments) as web
// actions on one whisk-sim, with real kme-sim KMEs over mutual TLS and a host SAE process: latency
// p50/p99 and the added latency, throughput, and QKD keys consumed per invocation at N = 1 and 100.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type BenchRow, median, report, summarise } from '@mecqkd/common/bench';
import { createCa } from '@mecqkd/common/pki';
import { cpuSpent, sampleCpu } from '@mecqkd/common/proc-cpu';
import { waitUntil } from '@mecqkd/common/process';
import { createQkd014Client } from '@mecqkd/kme-sim/client';
import { startTestbed } from '@mecqkd/kme-sim/testbed';
import { startRedis } from '@mecqkd/localenv/redis';
import { createKeySupply } from '@mecqkd/sdk/key-supply';
import { createSecureInvoker } from '@mecqkd/sdk/secure-invoke';
import { startWhiskSim } from '@mecqkd/whisk-sim/testbed';
import openwhisk from 'openwhisk';
import { startHostSaeProcess } from '../src/testbed.ts';
import { bindWrapperSecret, wrapAction } from '../src/wrapper/bundle.ts';

const WARMUP = 100;
const SEQUENTIAL = 600;
const KEY_RUN = 200;
const CONCURRENCY = 4;
const THROUGHPUT_MS = Number(process.env.SECURE_BENCH_THROUGHPUT_MS ?? 3000);

const root = join(import.meta.dirname, '..', '..');
const model = readFileSync(join(root, 'examples', 'actions', 'cardio-risk.js'), 'utf8');
const args = {
  sex: 'female',
  age: 61,
  totalCholesterol: 180,
  hdlCholesterol: 47,
  systolicBloodPressure: 124,
  smoker: true,
  diabetes: false,
  notes: '',
};
args.notes = 'x'.repeat(1024 - JSON.stringify(args).length);

// SECURE_BENCH_CPU_PROF=<dir>: V8 CPU profiles of the bench (the client), the host SAE, whisk-sim and
// every action container, each covering exactly the plain (…-1) and the secure (…-2) throughput phase
// (cpu-profiler.cjs; summarise them with cpu-profile-top.ts). Profiling slows every process: read the
// profiles for where CPU goes, not the table's figures of that run.
const profileDir = process.env.SECURE_BENCH_CPU_PROF ? resolve(process.env.SECURE_BENCH_CPU_PROF) : undefined;
const profilerEnv: Record<string, string> = profileDir
  ? {
      NODE_OPTIONS: `--require=${join(import.meta.dirname, 'cpu-profiler.cjs')}`,
      MECQKD_CPU_PROF_DIR: profileDir,
    }
  : {};

const loadAtStart = loadavg();
const dir = mkdtempSync(join(tmpdir(), 'mecqkd-secure-bench-'));
const stops: (() => Promise<void>)[] = [];
try {
  const kmes = await startTestbed(
    {
      kmes: [
        { id: 'KME_CLIENT', saes: ['SAE_CLIENT'], process: 'kmes' },
        { id: 'KME_HOST', saes: ['SAE_HOST'], process: 'kmes' },
      ],
      links: [{ kmes: ['KME_CLIENT', 'KME_HOST'], skrBitsPerSecond: 10_000_000, capacityBits: 50_000_000 }],
    },
    join(dir, 'kmes'),
  );
  stops.push(() => kmes.stop());
  const redis = await startRedis();
  stops.push(() => redis.stop());
  const ca = await createCa('bench host SAE CA');
  const wrapperSecret = randomBytes(32).toString('base64url');
  const hostSae = kmes.saes.SAE_HOST!;
  if (profileDir) {
    mkdirSync(profileDir, { recursive: true });
    // the processes started from here on (host SAE, whisk-sim) preload the profiler; so does this one
    Object.assign(process.env, profilerEnv);
    createRequire(import.meta.url)('./cpu-profiler.cjs');
  }
  const sae = await startHostSaeProcess({
    dir,
    saeId: 'SAE_HOST',
    ca,
    kme: { url: hostSae.url, ca: hostSae.ca, cert: hostSae.cert, key: hostSae.key },
    wrapperSecret,
    redisUrl: redis.url,
  });
  stops.push(() => sae.stop());
  const sim = await startWhiskSim({
    dir: join(dir, 'whisk'),
    name: 'bench-host',
    capacityMb: 4096,
    config: { logLevel: 'warn' },
    containerEnv: {
      MECQKD_HOST_SAE_SERVICE_HOST: sae.host,
      MECQKD_HOST_SAE_SERVICE_PORT: String(sae.port),
      ...profilerEnv,
    },
  });
  /** Starts or stops the profilers of this process, the host SAE, whisk-sim and its containers. */
  let toggles = 0;
  const toggleProfiles = async () => {
    if (!profileDir) return;
    toggles++;
    for (const pid of [process.pid, sae.process.pid, -sim.process.pid]) process.kill(pid, 'SIGUSR2');
    if (toggles % 2 === 1) return;
    const written = () => readdirSync(profileDir).filter((f) => f.endsWith(`-${toggles / 2}.cpuprofile`));
    await waitUntil('the CPU profiles', async () => written().length >= 3, { timeoutMs: 30_000 });
  };
  stops.push(() => sim.stop());
  const ow = openwhisk({ apihost: sim.apiHost, api_key: sim.auth, namespace: sim.namespace });
  const plainBody = {
    exec: { kind: 'nodejs:20', code: model, main: 'main' },
    parameters: [] as { key: string; value: unknown; init?: boolean }[],
    annotations: [{ key: 'web-export', value: true }],
  };
  const deploy = async (name: string, body: typeof plainBody) => {
    await ow.actions.update({ name, action: body as unknown as openwhisk.Action });
    return `${sim.apiHost}/api/v1/web/${sim.namespace}/default/${name}.json`;
  };
  /** No `keysAhead`: the default, 16 keys ahead; `0`: a host SAE round trip per invocation. */
  const secureAction = (n: number, keysAhead?: number) => {
    const body = bindWrapperSecret(
      // a demand high enough that the key allowance never holds the benchmark back
      wrapAction(plainBody, {
        hostSaeCa: ca.cert,
        invocationsPerKey: n,
        expectedInvocationsPerSecond: 10_000,
      }),
      wrapperSecret,
    );
    if (keysAhead !== undefined)
      body.parameters.push({ key: 'MECQKD_KEYS_AHEAD', value: String(keysAhead), init: true });
    return deploy(keysAhead === undefined ? `secure-n${n}` : `secure-n${n}-ahead${keysAhead}`, body);
  };
  const plainUrl = await deploy('plain', plainBody);
  const kme = createQkd014Client({
    url: kmes.saes.SAE_CLIENT!.url,
    ca: readFileSync(kmes.saes.SAE_CLIENT!.ca),
    cert: readFileSync(kmes.saes.SAE_CLIENT!.cert),
    key: readFileSync(kmes.saes.SAE_CLIENT!.key),
  });
  const secureClient = async (n: number, keysAhead?: number) => {
    const referenceURI = await secureAction(n, keysAhead);
    const keys = createKeySupply({ kme, hostSaeId: 'SAE_HOST', invocationsPerKey: n, spares: 2 });
    const target = {
      referenceURI,
      contextId: randomBytes(16).toString('hex'),
      clientSaeId: 'SAE_CLIENT',
      invocationsPerKey: n,
    };
    return { ...createSecureInvoker(target, keys), close: () => keys.close() };
  };
  const plain = async () => {
    const res = await fetch(plainUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(args),
    });
    if (res.status !== 200) throw new Error(`plain invocation: HTTP ${res.status}`);
    return res.json();
  };

  const n100 = await secureClient(100);
  const secure = () => n100.invoke(args);
  const each = await secureClient(100, 0);
  const secureEachTrip = () => each.invoke(args);
  const expected = JSON.stringify(await plain());
  if (JSON.stringify(await secure()) !== expected) throw new Error('secure and plain results differ');
  for (let i = 0; i < WARMUP; i++) {
    await plain();
    await secure();
    await secureEachTrip();
  }
  // Interleaved, so both see the same machine load. The secure calls also report their steps (the
  // client's, and the host's as its wrapper measured them): where the added time goes.
  const lat = { plain: [] as number[], secure: [] as number[], roundTrip: [] as number[] };
  const steps = new Map<string, number[]>();
  const put = (k: string, v: number) => {
    const list = steps.get(k);
    if (list) list.push(v);
    else steps.set(k, [v]);
  };
  for (let i = 0; i < SEQUENTIAL; i++) {
    let t0 = performance.now();
    await plain();
    lat.plain.push(performance.now() - t0);
    t0 = performance.now();
    const o = await n100.invokeTimed(args);
    lat.secure.push(performance.now() - t0);
    t0 = performance.now();
    await secureEachTrip();
    lat.roundTrip.push(performance.now() - t0);
    for (const [k, v] of [
      ...Object.entries(o.timings).map(([k, v]) => [`client ${k}`, v] as const),
      ...Object.entries(o.hostTimings ?? {}).map(([k, v]) => [`host ${k}`, v] as const),
    ])
      put(k, v);
    if (i % 200 === 0) process.stderr.write(`  sequential ${i}/${SEQUENTIAL}\n`);
  }
  const step = (k: string, label: string): BenchRow => ({
    metric: `  ${label}, median`,
    value: median(steps.get(k) ?? []),
    unit: 'ms',
  });
  const p = summarise(lat.plain);
  const s = summarise(lat.secure);
  // Paired: each secure call against the plain call just before it, so load swings cancel out.
  const pairedAdded = median(lat.secure.map((v, i) => v - (lat.plain[i] as number)));
  const pairedAddedEachTrip = median(lat.roundTrip.map((v, i) => v - (lat.plain[i] as number)));
  const pairedAheadGain = median(lat.roundTrip.map((v, i) => v - (lat.secure[i] as number)));
  const loadAfterSequential = loadavg();

  // Every client its own warm container first: a cold start inside the measured window would be
  // billed to the invocations (most of a millisecond each at this rate).
  const warm = (f: () => Promise<unknown>) =>
    Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let i = 0; i < WARMUP / CONCURRENCY; i++) await f();
      }),
    );
  await warm(plain);
  await warm(secure);
  const saeCounter = async (name: string) => {
    const text = await (await fetch(`${sae.opsUrl}/metrics`)).text();
    return Number(text.match(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm'))?.[1] ?? Number.NaN);
  };
  const connectionsBefore = await saeCounter('mecqkd_host_sae_tls_handshakes_total');
  const derivesBefore = await saeCounter('mecqkd_host_sae_invocations_total');

  // Invocations/s with CONCURRENCY clients, and CPU ms per invocation of every process on the path:
  // on a shared machine the wall clock swings with the load, CPU per invocation much less.
  const throughput = async (f: () => Promise<unknown>, clients = CONCURRENCY) => {
    const before = {
      sim: sampleCpu(sim.process.pid),
      sae: sampleCpu(sae.process.pid),
      own: process.cpuUsage(),
    };
    let done = 0;
    const until = performance.now() + THROUGHPUT_MS;
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (performance.now() < until) {
          await f();
          done++;
        }
      }),
    );
    const w = cpuSpent(before.sim, sampleCpu(sim.process.pid));
    const own = process.cpuUsage(before.own);
    const cpu = {
      whisk: w.selfMs / done,
      containers: w.childrenMs / done,
      hostSae: cpuSpent(before.sae, sampleCpu(sae.process.pid)).selfMs / done,
      client: (own.user + own.system) / 1000 / done,
    };
    return { rate: done / (THROUGHPUT_MS / 1000), cpu };
  };
  await toggleProfiles();
  const plainTput = await throughput(plain);
  await toggleProfiles();
  await toggleProfiles();
  const secureTput = await throughput(secure);
  await toggleProfiles();
  // One client, one warm container: the stream a container holds keys ahead for. With and without.
  const one = {
    plain: await throughput(plain, 1),
    secure: await throughput(secure, 1),
    roundTrip: await throughput(secureEachTrip, 1),
  };
  const connectionsPerInvocation =
    ((await saeCounter('mecqkd_host_sae_tls_handshakes_total')) - connectionsBefore) /
    ((await saeCounter('mecqkd_host_sae_invocations_total')) - derivesBefore);
  const total = (c: typeof plainTput.cpu) => c.whisk + c.containers + c.hostSae + c.client;

  const keysPer = async (n: number) => {
    const c = await secureClient(n);
    for (let i = 0; i < KEY_RUN; i++) await c.invoke(args);
    const st = c.stats();
    c.close();
    return { perInvocation: st.keysFetched / st.invocations, waits: st.waits };
  };
  const k1 = await keysPer(1);
  const k100 = await keysPer(100);
  n100.close();
  each.close();
  kme.close();

  const rows: BenchRow[] = [
    { metric: 'plain web action p50 (1 KiB args)', value: p.p50, unit: 'ms' },
    { metric: 'plain web action p99', value: p.p99, unit: 'ms' },
    { metric: 'secure invocation p50 (N = 100)', value: s.p50, unit: 'ms' },
    { metric: 'secure invocation p99', value: s.p99, unit: 'ms' },
    { metric: 'added latency p50 (secure − plain)', value: s.p50 - p.p50, unit: 'ms', target: '<= 1.5' },
    { metric: 'added latency, median of paired differences', value: pairedAdded, unit: 'ms' },
    { metric: 'added latency p99', value: s.p99 - p.p99, unit: 'ms' },
    {
      metric: '  with a host SAE round trip each (MECQKD_KEYS_AHEAD=0), paired',
      value: pairedAddedEachTrip,
      unit: 'ms',
    },
    { metric: '  keys ahead save, median of paired differences', value: pairedAheadGain, unit: 'ms' },
    { metric: 'latency ratio p50 (secure / plain)', value: s.p50 / p.p50, unit: 'x' },
    step('client seal', 'client: derive the keys, seal'),
    step('client open', 'client: open the answer'),
    step('host key', 'host: derived keys from the host SAE (round trip)'),
    step('host open', 'host: open the arguments'),
    step('host seal', 'host: seal the result'),
    { metric: `plain throughput (${CONCURRENCY} clients)`, value: plainTput.rate, unit: 'inv/s' },
    { metric: `secure throughput (${CONCURRENCY} clients)`, value: secureTput.rate, unit: 'inv/s' },
    { metric: 'CPU per plain invocation (all processes)', value: total(plainTput.cpu), unit: 'ms' },
    { metric: 'CPU per secure invocation (all processes)', value: total(secureTput.cpu), unit: 'ms' },
    ...(['whisk', 'containers', 'hostSae', 'client'] as const).map((k) => ({
      metric: `  CPU ${k} per invocation, plain → secure`,
      value: secureTput.cpu[k],
      unit: `ms (plain ${plainTput.cpu[k].toFixed(3)})`,
    })),
    ...(['plain', 'secure', 'roundTrip'] as const).map((k) => ({
      metric: `1 client: CPU per ${k === 'roundTrip' ? 'secure invocation, a round trip each' : `${k} invocation`}`,
      value: total(one[k].cpu),
      unit: `ms (containers ${one[k].cpu.containers.toFixed(3)}, host SAE ${one[k].cpu.hostSae.toFixed(3)}, ${one[k].rate.toFixed(0)} inv/s)`,
    })),
    { metric: 'host SAE connections opened per invocation', value: connectionsPerInvocation, unit: 'conn' },
    { metric: 'QKD keys per invocation, N = 1', value: k1.perInvocation, unit: 'keys' },
    { metric: 'QKD keys per invocation, N = 100', value: k100.perInvocation, unit: 'keys' },
    { metric: 'invocations that waited on the KME, N = 1', value: k1.waits, unit: `of ${KEY_RUN}` },
  ];
  report('secure-invocation', rows, {
    sequential: SEQUENTIAL,
    argsBytes: JSON.stringify(args).length,
    note: 'keys per invocation include the prefetched spares still unused at the end of the run',
    loadAverage: { start: loadAtStart, afterSequential: loadAfterSequential, end: loadavg() },
    cpu: { plain: plainTput.cpu, secure: secureTput.cpu, oneClient: one },
  });
} finally {
  for (const stop of stops.reverse()) await stop();
  rmSync(dir, { recursive: true, force: true });
}
