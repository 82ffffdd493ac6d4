// `make chaos`: the long profile (CHAOS_MINUTES, default 20, longer until CHAOS_MIN_FAULTS, default
// 200, are injected, at most twice as long; CHAOS_SEED; CHAOS_PROFILE=short for
// one fault of each kind). Prints the fault table, writes .chaos/chaos-<profile>-<seed>.json, and
// exits non-zero on any invariant violation.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopAll } from '@mecqkd/common/process';
import { runChaos } from './run.ts';

const root = join(import.meta.dirname, '..', '..');
const report = await runChaos({
  seed: Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000),
  profile: process.env.CHAOS_PROFILE === 'short' ? 'short' : 'long',
  minutes: Number(process.env.CHAOS_MINUTES ?? 20),
  minFaults: Number(process.env.CHAOS_MIN_FAULTS ?? 200),
  dir: mkdtempSync(join(tmpdir(), 'mecqkd-chaos-')),
  reportDir: join(root, '.chaos'),
});
console.log(report.table);
console.log(
  `faults ${report.faults} in ${(report.faultPhaseMs / 60_000).toFixed(1)} min, converged ${report.convergedAfterMs ?? '—'} ms after the last, ${JSON.stringify(report.counts)}, duplicate notifications ${report.duplicateNotifications}`,
);
console.log(`load surges ${report.surges}, migrations ${JSON.stringify(report.migrations)}`);
console.log(`machine load average (1 min, after each wave): ${JSON.stringify(report.loadAverage)}`);
for (const v of report.violations) console.log(`VIOLATION ${v.invariant}: ${v.detail}`);
console.log(`report: ${report.reportFile}; logs: ${report.world.tb.dir}`);
await report.world.stop();
await stopAll();
process.exit(report.violations.length === 0 ? 0 : 1);
