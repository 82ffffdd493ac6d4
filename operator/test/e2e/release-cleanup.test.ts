// The chart's pre-delete hook against a real operator, whisk-sims and kme-sim: a release's MecHosts
// are deleted while the operator runs, so their finalizer is removed (actions off the hosts) before
// Helm deletes the operator; without an operator it fails naming the hosts instead of hanging.
import { createLogger } from '@mecqkd/common/logger';
import { type MecTestbed, startMecTestbed } from '@mecqkd/localenv/mec-testbed';
import { expect } from 'chai';
import type { RunningOperator } from '../../src/operator.ts';
import { parseReleaseCleanup, releaseCleanup } from '../../src/release-cleanup.ts';
import {
  contexts,
  createApp,
  createContext,
  eventually,
  getJson,
  managedActions,
  runOperator,
} from './support.ts';

const log = createLogger('release-cleanup-test', 'warn');

describe('operator release-cleanup (e2e)', function () {
  this.timeout(120_000);
  let tb: MecTestbed;
  let op: RunningOperator | undefined;

  let template: { apiVersion: string; kind: string; spec: unknown };

  before(async () => {
    tb = await startMecTestbed({ namespace: `op-release-${Date.now().toString(36)}` });
    const h = await getJson<{ apiVersion: string; kind: string; spec: unknown }>(tb, 'mechost', 'host-1');
    template = { apiVersion: h.apiVersion, kind: h.kind, spec: h.spec };
    await tb.kubectl(['label', 'mechost', '--all', 'release=lab']);
  });
  after(async () => {
    await op?.stop();
    await tb?.stop();
  });

  const flags = (timeout: number) =>
    parseReleaseCleanup(
      [
        '--kubeconfig',
        tb.cp.kubeconfigPath,
        '--namespace',
        tb.namespace,
        '--selector',
        'release=lab',
        '--timeout',
        String(timeout),
      ],
      {},
    );
  const hosts = async () => (await getJson<{ items: unknown[] }>(tb, 'mechosts')).items.length;

  it('deletes them while the operator runs and returns once the operator has taken their actions away', async () => {
    op = await runOperator(tb);
    await op.leading;
    await createApp(tb, 'echo', 'function main(p) { return p; }');
    const id = await createContext(tb, 'echo');
    const ctx = await eventually('placed', async () =>
      (await contexts(tb)).find((c) => c.metadata.name === id && c.status?.phase === 'Placed'),
    );
    const on = ctx.status!.host!;
    expect(await managedActions(tb, on)).to.have.length(1);
    const deleted = await releaseCleanup(flags(60), log);
    expect(deleted.filter((d) => d.startsWith('mechosts/'))).to.have.length(2);
    expect(await hosts()).to.equal(0);
    expect(await managedActions(tb, on)).to.deep.equal([]);
  });
  it('deletes the Leases it is given (the post-delete hook: made at run time, never rendered)', async () => {
    const lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'lab-operator' },
      spec: {},
    };
    await tb.kubectl(['apply', '-f', '-'], JSON.stringify(lease));
    const deleted = await releaseCleanup({ ...flags(10), leases: ['lab-operator', 'lab-gone-already'] }, log);
    expect(deleted).to.include.members(['leases/lab-operator', 'leases/lab-gone-already']);
    expect(await tb.kubectl(['get', 'leases', '-o', 'name'])).to.not.include('lab-operator');
  });

  it("fails naming the release's MecHosts when no operator removes their finalizer", async () => {
    await op?.stop();
    op = undefined;
    // a host whose operator is gone, as after a crash: its finalizer stays
    const stuck = {
      ...template,
      metadata: { name: 'host-stuck', labels: { release: 'lab' }, finalizers: ['mecqkd.io/host-cleanup'] },
    };
    await tb.kubectl(['apply', '-f', '-'], JSON.stringify(stuck));
    try {
      const err = await releaseCleanup(flags(2), log).catch((e: unknown) => e);
      expect(String((err as Error).message)).to.equal(
        `MecHosts host-stuck in ${tb.namespace} still carry their finalizer after 2 s: is the operator running?`,
      );
    } finally {
      await tb.kubectl([
        'patch',
        'mechost',
        'host-stuck',
        '--type',
        'merge',
        '-p',
        '{"metadata":{"finalizers":null}}',
      ]);
    }
  });
});
