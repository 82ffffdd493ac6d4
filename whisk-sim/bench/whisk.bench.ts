// whisk-sim throughput and latency through the unmodified openwhisk client, with whisk-sim in its own
// process: warm blocking invocations (result=true) of a trivial action, and cold starts.
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, report, summarise } from '@mecqkd/common/bench';
import { cpuSpent, sampleCpu } from '@mecqkd/common/proc-cpu';
import openwhisk from 'openwhisk';
import { startWhiskSim } from '../src/testbed.ts';

const WARMUP = 200;
const SEQUENTIAL = 2000;
const CONCURRENCY = 4;
const THROUGHPUT_MS = 3000;
const COLD_STARTS = 10;

const dir = mkdtempSync(join(tmpdir(), 'whisk-sim-bench-'));
const sim = await startWhiskSim({
  dir,
  name: 'whisk-sim-bench',
  capacityMb: 4096,
  config: { logLevel: 'warn' },
});
try {
  // Keep-alive, as any long-lived client (the sdk) would use; without it each call pays a TCP handshake.
  const agent = new Agent({ keepAlive: true });
  const ow = openwhisk({ apihost: sim.apiHost, api_key: sim.auth, namespace: sim.namespace, agent });
  await ow.actions.create({ name: 'trivial', action: 'function main(p) { return { ok: true, n: p.n }; }' });
  const invoke = () => ow.actions.invoke({ name: 'trivial', blocking: true, result: true, params: { n: 1 } });

  // CPU ms per invocation of whisk-sim, of its action containers and of this client over `run`.
  const cpuPerInvocation = async (run: () => Promise<number>) => {
    const server = sampleCpu(sim.process.pid);
    const client = process.cpuUsage();
    const invocations = await run();
    const spent = cpuSpent(server, sampleCpu(sim.process.pid));
    const own = process.cpuUsage(client);
    return {
      server: spent.selfMs / invocations,
      containers: spent.childrenMs / invocations,
      client: (own.user + own.system) / 1000 / invocations,
    };
  };

  for (let i = 0; i < WARMUP; i++) await invoke();
  const latencies: number[] = [];
  const sequentialCpu = await cpuPerInvocation(async () => {
    for (let i = 0; i < SEQUENTIAL; i++) {
      const t0 = performance.now();
      await invoke();
      latencies.push(performance.now() - t0);
    }
    return SEQUENTIAL;
  });
  const warm = summarise(latencies);

  // Throughput: a few clients in parallel on one warm container each (the pool scales out).
  let perSecond = 0;
  const throughputCpu = await cpuPerInvocation(async () => {
    let done = 0;
    const end = performance.now() + THROUGHPUT_MS;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < end) {
          await invoke();
          done++;
        }
      }),
    );
    perSecond = done / ((performance.now() - started) / 1000);
    return done;
  });

  // Cold starts: a new action version each time, so no warm container can be reused.
  const initTimes: number[] = [];
  const coldLatencies: number[] = [];
  for (let i = 0; i < COLD_STARTS; i++) {
    await ow.actions.update({ name: 'cold', action: `function main() { return { v: ${i} }; }` });
    const t0 = performance.now();
    const record = await ow.actions.invoke({ name: 'cold', blocking: true });
    coldLatencies.push(performance.now() - t0);
    const initTime = record.annotations?.find((a) => a.key === 'initTime')?.value;
    if (typeof initTime !== 'number') throw new Error(`cold start ${i} reported no initTime`);
    initTimes.push(initTime);
  }

  report(
    'whisk-sim',
    [
      {
        metric: 'warm invocations/s (4 clients)',
        value: Math.round(perSecond),
        unit: 'inv/s',
        target: '>= 500',
      },
      { metric: 'warm latency p50 (1 client)', value: warm.p50, unit: 'ms', target: '<= 3' },
      { metric: 'warm latency p99 (1 client)', value: warm.p99, unit: 'ms' },
      { metric: 'whisk-sim CPU per warm invocation (1 client)', value: sequentialCpu.server, unit: 'ms' },
      { metric: 'whisk-sim CPU per warm invocation (4 clients)', value: throughputCpu.server, unit: 'ms' },
      {
        metric: 'container CPU per warm invocation (4 clients)',
        value: throughputCpu.containers,
        unit: 'ms',
      },
      { metric: 'client CPU per warm invocation (4 clients)', value: throughputCpu.client, unit: 'ms' },
      { metric: 'cold start initTime (median)', value: median(initTimes), unit: 'ms' },
      { metric: 'cold invoke latency (median)', value: median(coldLatencies), unit: 'ms' },
    ],
    {
      sequential: SEQUENTIAL,
      concurrency: CONCURRENCY,
      throughputMs: THROUGHPUT_MS,
      coldStarts: COLD_STARTS,
      transport: 'http loopback, openwhisk 3.21.9 client',
      sequentialCpuMsPerInvocation: sequentialCpu,
      loadAverage: loadavg(),
    },
  );
} finally {
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
}
