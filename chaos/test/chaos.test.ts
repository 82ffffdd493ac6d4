// The short chaos profile (one fault of each kind, seeded) over the whole local system under a
// steady workload; then the invariants of issue 16 over the recorded history, and the secret scan
// of everything the run left outside the perimeters.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { type ChaosReport, runChaos } from '../src/run.ts';
import { FAULT_KINDS } from '../src/schedule.ts';
import { scan } from '../src/secret-scan.ts';
import { runHaystacks, runSecrets } from '../src/secrets-of-run.ts';

describe('chaos, short profile (every fault kind once)', function () {
  this.timeout(900_000);
  let report: ChaosReport;

  before(async () => {
    report = await runChaos({
      seed: Number(process.env.CHAOS_SEED ?? 16),
      profile: 'short',
      minutes: 3,
      dir: mkdtempSync(join(tmpdir(), 'mecqkd-chaos-')),
      reportDir: join(import.meta.dirname, '..', '..', '.chaos'),
      log: (l) => console.log(`      ${l}`),
    });
    console.log(report.table.replace(/^/gm, '      '));
  });
  after(async () => {
    await report?.world.stop();
  });

  it('keeps every invariant through the faults, and converges after the last', () => {
    expect(report.rows.map((r) => r.kind)).to.have.members([...FAULT_KINDS]);
    expect(report.counts.correct, 'invocations answered correctly').to.be.greaterThan(0);
    expect(report.violations).to.deep.equal([]);
  });

  it('moves load so that contexts migrate from overload, and tells their device apps', () => {
    console.log(`      load surges ${report.surges}, migrations ${JSON.stringify(report.migrations)}`);
    expect(report.surges).to.be.greaterThan(0);
    expect(report.migrations.byReason.HostOverloaded ?? 0, 'migrations from overload').to.be.greaterThan(0);
    expect(report.migrations.notified).to.be.greaterThan(0);
  });

  it('leaves no key, token, private key or plaintext in logs, metrics, Events, CRs, Redis or activations', async () => {
    const needles = runSecrets(report);
    expect(needles.filter((n) => n.kind === 'QKD key').length, 'keys the client used').to.be.greaterThan(0);
    const haystacks = await runHaystacks(report);
    console.log(`      secret scan: ${needles.length} secrets in ${haystacks.length} places`);
    expect(scan(haystacks, needles)).to.deep.equal([]);
  });
});
