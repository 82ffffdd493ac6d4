// The `make demo` scenario on the whole real system (control plane, Redis, whisk-sims, host SAEs,
// kme-sim with a trusted relay, the operator and LCMP binaries), its outcome asserted step by step.
// Needs `make build` (the operator and LCMP bundles), as `make test` does first.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contextStory, readRunLogs } from '@mecqkd/sdk/observe/trace-story';
import { expect } from 'chai';
import { exportActivationLogs } from '../src/activation-logs.ts';
import { runScenario, type ScenarioOutcome, TABLETS } from '../src/scenario.ts';
import { type DemoSystem, ROOT, startDemoSystem } from '../src/system.ts';

/** The `mecqkd` binary as a user runs it. */
const mecqkd = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile(
      process.execPath,
      [join(ROOT, 'sdk', 'bin', 'mecqkd.mjs'), ...args],
      { env: { PATH: process.env.PATH, ...env } },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    ),
  );

describe('the hospital demo scenario (e2e)', function () {
  this.timeout(300_000);
  let sys: DemoSystem | undefined;
  let runDir: string;
  let outcome: ScenarioOutcome;

  before(async () => {
    runDir = mkdtempSync(join(tmpdir(), 'mecqkd-demo-test-'));
    sys = await startDemoSystem({ runDir, namespace: `demo-${Date.now().toString(36)}` });
    outcome = await runScenario(sys);
  });
  after(async () => {
    await sys?.stop();
    rmSync(runDir, { recursive: true, force: true });
  });

  it('lists both hospital models over Mx2 and places a context for every tablet', () => {
    expect(outcome.apps).to.deep.equal(['cardio-risk', 'covid-risk']);
    expect(outcome.contexts.map((c) => c.device)).to.deep.equal(TABLETS.map((t) => t.device));
    for (const c of outcome.contexts) {
      expect(c.contextId).to.match(/^[0-9a-f]{32}$/);
      expect(c.host).to.be.oneOf(['host-1', 'host-2']);
    }
  });

  it('shows an eavesdropper ciphertext only: on the wire and in the activation record', () => {
    const { requestBody, responseBody, activation, result } = outcome.eavesdropper;
    expect(outcome.leaked).to.deep.equal([]);
    const sent = JSON.parse(requestBody);
    expect(sent).to.have.all.keys(
      'v',
      'keyId',
      'seq',
      'contextId',
      'action',
      'clientSaeId',
      'direction',
      'iv',
      'ct',
      'tag',
    );
    const record = activation as { response: { result: Record<string, unknown> }; logs: string[] };
    expect(record.response.result).to.include({ direction: 'response' }).and.to.have.property('ct');
    expect(JSON.parse(responseBody)).to.deep.equal(record.response.result);
    // the decrypted result is a model's answer, and no part of it is in what was exposed
    expect(result).to.have.property('model', 'framingham-cvd-2008');
    const exposed = `${requestBody}${responseBody}${JSON.stringify(activation)}`;
    expect(exposed).to.not.include('tenYearRisk').and.not.include('totalCholesterol');
  });

  it('migrates the contexts off the overloaded host, notifies the device apps, loses no invocation', () => {
    const { from, to, migrated, notifications } = outcome.migration;
    expect(from).to.not.equal(to);
    expect(migrated).to.have.length.greaterThan(0);
    expect(notifications).to.equal(migrated.length);
    for (const s of outcome.streams) {
      expect(s.lost, `${s.device}: ${s.errors.join('; ')}`).to.equal(0);
      expect(s.answered, s.device).to.equal(s.sent);
      expect(s.perHost[to] ?? 0, `${s.device} answered on ${to}`).to.be.at.least(5);
    }
    const moved = outcome.contexts.filter((c) => migrated.includes(c.contextId));
    for (const c of moved) {
      const s = outcome.streams.find((x) => x.device === c.device)!;
      expect(s.perHost[from], `${c.device} answered on ${from} before the move`).to.be.at.least(5);
    }
  });

  it('consumes keys on the direct link and on both hops of the relayed one', () => {
    const k = outcome.keysPerLink;
    const used = Object.entries(k)
      .filter(([, n]) => n > 0)
      .map(([l]) => l);
    expect(used).to.include('KME_CLIENT--KME_RELAY').and.include('KME_RELAY--KME_HOST_2');
    // a relay hop carries the same keys as the first one
    expect(k['KME_CLIENT--KME_RELAY']).to.equal(k['KME_RELAY--KME_HOST_2']);
  });

  it('deletes the contexts over Mx2 and the operator removes every action', () => {
    expect(outcome.contextsLeft).to.equal(0);
    expect(Object.values(outcome.actionsLeft).flat()).to.deep.equal([]);
  });

  it('tells one context story from every component log under one trace', async () => {
    await exportActivationLogs(sys!);
    const c = outcome.contexts[0]!;
    const story = contextStory(readRunLogs(runDir), c.contextId);
    expect(story.traceIds).to.deep.equal([c.traceId]);
    const components = new Set(story.lines.map((l) => l.component));
    for (const x of ['lcmp', 'operator', 'host-sae', 'action-wrapper', 'client-app'])
      expect([...components], x).to.include(x);
    expect(
      story.lines.some((l) => l.message === 'Updated AppContext status' && l.fields.phase === 'Placed'),
    ).to.equal(true);
  });

  it('mecqkd status reads the cluster: hosts with actions, links with key rates and keys left', async () => {
    const r = await mecqkd(['status', '--namespace', sys!.namespace], { KUBECONFIG: sys!.kubeconfig });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/host-1\s+yes\s+\d+%\s+\d+%\s+0\s+-/);
    expect(r.stdout).to.match(
      /relay-kme-host-2\s+KME_RELAY → KME_HOST_2\s+ACTIVE\s+[\d.]+ kb\/s\s+\d+ of \d+/,
    );
    expect(r.stdout).to.contain('Application contexts (0)');
  });

  it('mecqkd trace prints the story of a migrated context from the run directory', async () => {
    const id = outcome.migration.migrated[0]!;
    const r = await mecqkd(['trace', id, '--run-dir', runDir]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/operator\s+Migrated AppContext .*from=/);
    expect(r.stdout).to.match(/lcmp\s+Delivered notification .*type=AddressChangeNotification/);
    expect((await mecqkd(['trace', 'ab'.repeat(16), '--run-dir', runDir])).code).to.equal(1);
  });
});
