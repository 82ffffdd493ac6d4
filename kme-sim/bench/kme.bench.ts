// enc_keys → dec_keys pairs over mutual TLS with keep-alive on loopback. The two KMEs (master's and slave's,
// joined by a simulated QKD link) run in two kme-sim child processes; this process is the SAE client.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { report, summarise } from '@mecqkd/common/bench';
import { stopAll } from '@mecqkd/localenv/process';
import { createQkd014Client } from '../src/client.ts';
import { startTestbed, type TestbedSae } from '../src/testbed.ts';

const DURATION_MS = Number(process.env.KME_BENCH_SECONDS ?? 5) * 1000;
const WARMUP_MS = 1000;
const CONCURRENCY = Number(process.env.KME_BENCH_CONCURRENCY ?? 4);

const client = (s: TestbedSae) =>
  createQkd014Client({
    url: s.url,
    ca: readFileSync(s.ca),
    cert: readFileSync(s.cert),
    key: readFileSync(s.key),
  });

/** CPU seconds a process has used so far (Linux /proc; utime + stime in clock ticks of 10 ms). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function run(
  number: number,
  master: ReturnType<typeof client>,
  slave: ReturnType<typeof client>,
  servers: number[],
) {
  const pair = async () => {
    const started = performance.now();
    const { keys } = await master.encKeys('sae-b', { number });
    const back = await slave.decKeys(
      'sae-a',
      keys.map((k) => k.key_ID),
    );
    if (back.keys[0]?.key !== keys[0]?.key) throw new Error('slave received a different key');
    return performance.now() - started;
  };
  const loop = async (until: number, latencies?: number[]) => {
    while (performance.now() < until) {
      const ms = await pair();
      latencies?.push(ms);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, () => loop(performance.now() + WARMUP_MS)));
  const latencies: number[] = [];
  const serverCpu = servers.map(cpuSeconds);
  const clientCpu = process.cpuUsage();
  const start = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, () => loop(start + DURATION_MS, latencies)));
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(clientCpu);
  const perPair = (s: number) => Number(((s * 1000) / latencies.length).toFixed(3));
  const cpuMsPerPair = {
    client: perPair((used.user + used.system) / 1e6),
    servers: servers.map((pid, i) => perPair(cpuSeconds(pid) - (serverCpu[i] as number))),
  };
  return { pairsPerSecond: latencies.length / seconds, cpuMsPerPair, ...summarise(latencies) };
}

const dir = join(process.env.MECQKD_ROOT ?? process.cwd(), '.run', 'kme-bench');
const testbed = await startTestbed(
  {
    kmes: [
      { id: 'kme-a', saes: ['sae-a'] },
      { id: 'kme-b', saes: ['sae-b'] },
    ],
    links: [{ kmes: ['kme-a', 'kme-b'], skrBitsPerSecond: 1e10, capacityBits: 1e10 }],
  },
  dir,
);
try {
  const master = client(testbed.saes['sae-a'] as TestbedSae);
  const slave = client(testbed.saes['sae-b'] as TestbedSae);
  const pids = testbed.processes.map((p) => p.pid);
  const single = await run(1, master, slave, pids);
  const batch = await run(128, master, slave, pids);
  master.close();
  slave.close();
  report(
    'kme-sim',
    [
      { metric: 'single-key pairs/s', value: single.pairsPerSecond, unit: 'pairs/s', target: '>= 1000' },
      { metric: 'single-key pair p50', value: single.p50, unit: 'ms' },
      { metric: 'single-key pair p99', value: single.p99, unit: 'ms', target: '<= 5' },
      {
        metric: '128-key pairs: keys/s',
        value: batch.pairsPerSecond * 128,
        unit: 'keys/s',
        target: '>= 50000',
      },
      { metric: '128-key pair p50', value: batch.p50, unit: 'ms' },
      { metric: '128-key pair p99', value: batch.p99, unit: 'ms' },
    ],
    {
      concurrency: CONCURRENCY,
      cpuMsPerPair: { singleKey: single.cpuMsPerPair, keys128: batch.cpuMsPerPair },
      loadAverage: loadavg(),
      durationSeconds: DURATION_MS / 1000,
      keySizeBits: 256,
      topology: 'two KMEs, each in its own kme-sim process, one QKD link; SAE client in the bench process',
      transport: 'HTTPS mutual TLS, keep-alive, 127.0.0.1',
    },
  );
} finally {
  await testbed.stop();
  await stopAll();
}
