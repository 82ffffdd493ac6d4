// enc_keys → dec_keys pairs over mutual TLS with keep-alive on loopback. Two KMEs (master's and slave's,
// joined by a simulated QKD link) run in two kme-sim child processes; this process is the SAE client.
// Cross-KME pairs are the real case (enc_keys, a KME↔KME reservation, dec_keys); intra-KME pairs (master
// and slave on one KME) show the cost without the KME↔KME hop.
// Two ways of loading: closed loops (N clients, each starting a pair when its last one ends) find the
// saturation throughput; an open loop (pairs started on a fixed schedule, whatever the answers do)
// gives the latency at a stated rate, timed from each pair's scheduled start so that a stall is
// charged to every pair it delays (no coordinated omission).
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { report, summarise } from '@mecqkd/common/bench';
import { ownCpuMs } from '@mecqkd/common/proc-cpu';
import { stopAll } from '@mecqkd/common/process';
import { createQkd014Client, type Qkd014Client } from '../src/client.ts';
import { startTestbed, type Testbed } from '../src/testbed.ts';

const DURATION_MS = Number(process.env.KME_BENCH_SECONDS ?? 4) * 1000;
const WARMUP_MS = 1000;
const CONCURRENCY = Number(process.env.KME_BENCH_CONCURRENCY ?? 4);
const OFFERED_RATE = Number(process.env.KME_BENCH_RATE ?? 1000);

interface Scenario {
  master: Qkd014Client;
  slave: Qkd014Client;
  slaveId: string;
  number: number;
  concurrency: number;
}

function pairOf(s: Scenario) {
  return async (started = performance.now()) => {
    const { keys } = await s.master.encKeys(s.slaveId, { number: s.number });
    const back = await s.slave.decKeys(
      'sae-a',
      keys.map((k) => k.key_ID),
    );
    if (back.keys[0]?.key !== keys[0]?.key) throw new Error('slave received a different key');
    return performance.now() - started;
  };
}

/** Runs `measure` (it fills `latencies`): pairs per second, latency summary and CPU ms per pair. */
async function measured(servers: number[], measure: (latencies: number[]) => Promise<unknown>) {
  const latencies: number[] = [];
  const serverCpu = servers.map(ownCpuMs);
  const clientCpu = process.cpuUsage();
  const start = performance.now();
  await measure(latencies);
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(clientCpu);
  const perPair = (ms: number) => Number((ms / latencies.length).toFixed(3));
  return {
    pairsPerSecond: latencies.length / seconds,
    ...summarise(latencies),
    cpuMsPerPair: {
      client: perPair((used.user + used.system) / 1000),
      servers: servers.map((pid, i) => perPair(ownCpuMs(pid) - (serverCpu[i] as number))),
    },
  };
}

async function run(s: Scenario, servers: number[]) {
  const pair = pairOf(s);
  const loop = async (until: number, latencies?: number[]) => {
    while (performance.now() < until) {
      const ms = await pair();
      latencies?.push(ms);
    }
  };
  const workers = (until: number, latencies?: number[]) =>
    Promise.all(Array.from({ length: s.concurrency }, () => loop(until, latencies)));
  await workers(performance.now() + WARMUP_MS);
  return measured(servers, (latencies) => workers(performance.now() + DURATION_MS, latencies));
}

/** Pairs started every 1/rate s for DURATION_MS (after a warm-up at the same rate). */
async function runAtRate(s: Scenario, rate: number, servers: number[]) {
  const pair = pairOf(s);
  const schedule = async (durationMs: number, latencies?: number[]) => {
    const interval = 1000 / rate;
    const start = performance.now();
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i * interval < durationMs; i++) {
      const due = start + i * interval;
      const wait = due - performance.now();
      // timers are coarse (≈1 ms): start every pair already due, sleep only when ahead of schedule
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      inFlight.push(pair(due).then((ms) => void latencies?.push(ms)));
    }
    await Promise.all(inFlight);
  };
  // Longer than the closed loops' warm-up: bursts of the open loop open connections the closed loops
  // never needed, and the first seconds after the switch still pay for them (p99 ≈ 6 ms after 1 s of
  // warm-up, ≈ 3 ms after 3 s, on this machine).
  await schedule(3 * WARMUP_MS);
  return measured(servers, (latencies) => schedule(DURATION_MS, latencies));
}

function client(tb: Testbed, id: string): Qkd014Client {
  const s = tb.saes[id];
  if (!s) throw new Error(`no SAE ${id}`);
  return createQkd014Client({
    url: s.url,
    ca: readFileSync(s.ca),
    cert: readFileSync(s.cert),
    key: readFileSync(s.key),
  });
}

const dir = join(process.env.MECQKD_ROOT ?? process.cwd(), '.run', 'kme-bench');
const testbed = await startTestbed(
  {
    kmes: [
      { id: 'kme-a', saes: ['sae-a', 'sae-a2'] },
      { id: 'kme-b', saes: ['sae-b'] },
    ],
    links: [{ kmes: ['kme-a', 'kme-b'], skrBitsPerSecond: 1e10, capacityBits: 1e10 }],
  },
  dir,
);
try {
  const master = client(testbed, 'sae-a');
  const slave = client(testbed, 'sae-b');
  const local = client(testbed, 'sae-a2');
  const pids = testbed.processes.map((p) => p.pid);
  const cross = { master, slave, slaveId: 'sae-b', concurrency: CONCURRENCY };
  const single = await run({ ...cross, number: 1 }, pids);
  const paced = await runAtRate({ ...cross, number: 1 }, OFFERED_RATE, pids);
  const batch = await run({ ...cross, number: 128 }, pids);
  const serial = await run({ ...cross, number: 1, concurrency: 1 }, pids);
  const intra = await run(
    { master, slave: local, slaveId: 'sae-a2', number: 1, concurrency: CONCURRENCY },
    pids,
  );
  for (const q of [master, slave, local]) q.close();
  const c = `concurrency ${CONCURRENCY}`;
  report(
    'kme-sim',
    [
      {
        metric: `single-key pairs/s, saturated (${c})`,
        value: single.pairsPerSecond,
        unit: 'pairs/s',
        target: '>= 1000',
      },
      { metric: `single-key pair p50, saturated (${c})`, value: single.p50, unit: 'ms' },
      { metric: `single-key pair p99, saturated (${c})`, value: single.p99, unit: 'ms' },
      {
        metric: `single-key pairs/s achieved at ${OFFERED_RATE}/s offered`,
        value: paced.pairsPerSecond,
        unit: 'pairs/s',
      },
      { metric: `single-key pair p50 at ${OFFERED_RATE}/s offered`, value: paced.p50, unit: 'ms' },
      {
        metric: `single-key pair p99 at ${OFFERED_RATE}/s offered`,
        value: paced.p99,
        unit: 'ms',
        target: '<= 5',
      },
      {
        metric: `128-key pairs: keys/s (${c})`,
        value: batch.pairsPerSecond * 128,
        unit: 'keys/s',
        target: '>= 50000',
      },
      { metric: `128-key pair p99 (${c})`, value: batch.p99, unit: 'ms' },
      { metric: 'single-key pairs/s (concurrency 1)', value: serial.pairsPerSecond, unit: 'pairs/s' },
      { metric: 'single-key pair p50 (concurrency 1)', value: serial.p50, unit: 'ms' },
      { metric: 'single-key pair p99 (concurrency 1)', value: serial.p99, unit: 'ms' },
      { metric: `intra-KME single-key pairs/s (${c})`, value: intra.pairsPerSecond, unit: 'pairs/s' },
      { metric: `intra-KME single-key pair p99 (${c})`, value: intra.p99, unit: 'ms' },
    ],
    {
      durationSeconds: DURATION_MS / 1000,
      offeredRate: OFFERED_RATE,
      keySizeBits: 256,
      cpuMsPerPair: {
        singleKey: single.cpuMsPerPair,
        singleKeyAtOfferedRate: paced.cpuMsPerPair,
        keys128: batch.cpuMsPerPair,
        serial: serial.cpuMsPerPair,
        intraKme: intra.cpuMsPerPair,
      },
      loadAverage: loadavg(),
      topology:
        'kme-a and kme-b each in its own kme-sim process, one QKD link; SAE client in the bench process',
      transport: 'HTTPS mutual TLS, keep-alive, 127.0.0.1',
    },
  );
} finally {
  await testbed.stop();
  await stopAll();
}
