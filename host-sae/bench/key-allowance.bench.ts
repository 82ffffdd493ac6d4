// What the per-context key allowance costs a derive: the host SAE's key service with the check
// (one Redis script call per new key ID, a real redis-server) against the same service without it,
// pairs interleaved in one run so both see the same machine load. Every derive takes a new key
// (N = 1, the worst case; at N invocations per key the cost per invocation is this over N), its
// dec_keys against kme-sim over mutual TLS included, as in the SAE.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BenchRow, median, report, summarise } from '@mecqkd/common/bench';
import { createLogger } from '@mecqkd/common/logger';
import { cpuSpent, sampleCpu } from '@mecqkd/common/proc-cpu';
import { runningProcesses } from '@mecqkd/common/process';
import { createQkd014Client } from '@mecqkd/kme-sim/client';
import { startTestbed } from '@mecqkd/kme-sim/testbed';
import { startRedis } from '@mecqkd/localenv/redis';
import { ENVELOPE_VERSION } from '@mecqkd/sdk/envelope';
import { createKeyAllowanceCheck } from '../src/key-allowance.ts';
import { createHostSaeMetrics } from '../src/metrics.ts';
import { createKeyService } from '../src/server.ts';

const PAIRS = Number(process.env.KEY_ALLOWANCE_PAIRS ?? 300);
const WARMUP = 20;
const demand = { expectedInvocationsPerSecond: 100_000, invocationsPerKey: 1 };

const loadAtStart = loadavg();
const dir = mkdtempSync(join(tmpdir(), 'mecqkd-key-allowance-bench-'));
const stops: (() => Promise<void>)[] = [];
try {
  const kmes = await startTestbed(
    {
      kmes: [
        { id: 'KME_C', saes: ['SAE_C'], process: 'kmes' },
        { id: 'KME_H', saes: ['SAE_H'], process: 'kmes' },
      ],
      links: [{ kmes: ['KME_C', 'KME_H'], skrBitsPerSecond: 10_000_000, capacityBits: 100_000_000 }],
    },
    join(dir, 'kmes'),
  );
  stops.push(() => kmes.stop());
  const redis = await startRedis();
  stops.push(() => redis.stop());
  const redisPid = runningProcesses().find((p) => p.name === 'redis-server')?.pid;
  const client = (s: { url: string; ca: string; cert: string; key: string }) =>
    createQkd014Client({
      url: s.url,
      ca: readFileSync(s.ca),
      cert: readFileSync(s.cert),
      key: readFileSync(s.key),
    });
  const clientKme = client(kmes.saes.SAE_C!);
  const hostKme = client(kmes.saes.SAE_H!);
  const metrics = createHostSaeMetrics('SAE_H');
  const check = createKeyAllowanceCheck({
    redisUrl: redis.url,
    saeId: 'SAE_H',
    metrics,
    logger: createLogger('bench', 'error'),
  });
  await check.ready(10_000);
  const services = {
    with: createKeyService(hostKme, 300_000, metrics, check),
    without: createKeyService(hostKme, 300_000, metrics, { newKey: async () => ({ ok: true }) }),
  };
  const contextId = randomBytes(16).toString('hex');
  const keyIds: string[] = [];
  const total = 2 * (PAIRS + WARMUP);
  while (keyIds.length < total) {
    const got = await clientKme.encKeys('SAE_H', { number: Math.min(128, total - keyIds.length) });
    keyIds.push(...got.keys.map((k) => k.key_ID));
  }
  const derive = async (which: keyof typeof services) => {
    const keyId = keyIds.pop()!;
    const header = {
      v: ENVELOPE_VERSION as 1,
      keyId,
      seq: 0,
      contextId,
      action: 'bench',
      clientSaeId: 'SAE_C',
      direction: 'request' as const,
    };
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const k = await services[which].derive({ header, ...demand });
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    k.requestKey.fill(0);
    k.responseKey.fill(0);
    return { ms, cpuMs: (c.user + c.system) / 1000 };
  };
  for (let i = 0; i < WARMUP; i++) {
    await derive('with');
    await derive('without');
  }
  const lat = { with: [] as number[], without: [] as number[] };
  const cpu = { with: [] as number[], without: [] as number[] };
  const redisBefore = redisPid ? sampleCpu(redisPid) : undefined;
  for (let i = 0; i < PAIRS; i++) {
    // alternate which goes first, so neither always follows the other's cache warmth
    const order = i % 2 === 0 ? (['with', 'without'] as const) : (['without', 'with'] as const);
    for (const which of order) {
      const r = await derive(which);
      lat[which].push(r.ms);
      cpu[which].push(r.cpuMs);
    }
    if (i % 100 === 0) process.stderr.write(`  pairs ${i}/${PAIRS}\n`);
  }
  const redisMs = redisBefore && redisPid ? cpuSpent(redisBefore, sampleCpu(redisPid)).selfMs : Number.NaN;
  check.close();
  clientKme.close();
  hostKme.close();

  const w = summarise(lat.with);
  const wo = summarise(lat.without);
  const paired = median(lat.with.map((v, i) => v - (lat.without[i] as number)));
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const rows: BenchRow[] = [
    { metric: 'derive of a new key p50, without the check', value: wo.p50, unit: 'ms' },
    { metric: 'derive of a new key p50, with the check', value: w.p50, unit: 'ms' },
    { metric: 'derive p99 without → with', value: w.p99, unit: `ms (without ${wo.p99.toFixed(3)})` },
    { metric: 'added latency per new key, median of paired differences', value: paired, unit: 'ms' },
    { metric: 'latency ratio p50 (with / without)', value: w.p50 / wo.p50, unit: 'x' },
    { metric: 'SAE CPU per derive, without the check', value: sum(cpu.without) / PAIRS, unit: 'ms' },
    { metric: 'SAE CPU per derive, with the check', value: sum(cpu.with) / PAIRS, unit: 'ms' },
    { metric: 'redis-server CPU per check', value: redisMs / PAIRS, unit: 'ms' },
  ];
  report('key-allowance', rows, {
    pairs: PAIRS,
    invocationsPerKey: 1,
    note: 'every derive takes a new key (dec_keys included); at N invocations per key the check runs once per N',
    loadAverage: { start: loadAtStart, end: loadavg() },
  });
} finally {
  for (const stop of stops.reverse()) await stop();
  rmSync(dir, { recursive: true, force: true });
}
