// An AppContext written for a newer CRD (a phase this operator does not know) is not a deletion:
// the operator keeps acting on its last valid version, reports it, and leaves its action in place.

import type { MecHost } from '@mecqkd/crds';
import { type MecTestbed, startMecTestbed } from '@mecqkd/localenv/mec-testbed';
import { expect } from 'chai';
import type { RunningOperator } from '../../src/operator.ts';
import {
  contexts,
  createApp,
  createContext,
  eventually,
  host,
  managedActions,
  reconciles,
  runOperator,
} from './support.ts';

const ECHO = 'function main(p) { return { echo: p.x ?? null }; }';
const CRD = 'customresourcedefinition/appcontexts.mecqkd.io';
const PHASES = '/spec/versions/0/schema/openAPIV3Schema/properties/status/properties/phase/enum';

describe('operator and objects it cannot decode (e2e)', function () {
  this.timeout(120_000);
  let tb: MecTestbed;
  let op: RunningOperator | undefined;
  let widened = false;

  before(async () => {
    tb = await startMecTestbed({ namespace: `op-decode-${Date.now().toString(36)}` });
    op = await runOperator(tb, { optimisePeriod: 0 });
  });
  after(async () => {
    await op?.stop();
    if (widened) {
      const crd = JSON.parse((await tb.cp.kubectl(['get', CRD, '-o', 'json'])).stdout);
      const phases: string[] =
        crd.spec.versions[0].schema.openAPIV3Schema.properties.status.properties.phase.enum;
      const at = phases.indexOf('Suspended');
      if (at >= 0)
        await tb.cp.kubectl([
          'patch',
          CRD,
          '--type=json',
          '-p',
          JSON.stringify([{ op: 'remove', path: `${PHASES}/${at}` }]),
        ]);
    }
    await tb?.stop();
  });

  it('keeps the last valid version of a context, reports it, and keeps its action', async () => {
    await createApp(tb, 'echo', ECHO);
    const id = await createContext(tb, 'echo');
    const ctx = await eventually('context Placed', async () =>
      (await contexts(tb)).find((c) => c.metadata.name === id && c.status?.phase === 'Placed'),
    );
    const on = ctx.status!.host!;
    const action = ctx.status!.appInstanceId!.split('/')[1]!;
    await eventually(
      'host counting the context',
      async () => (await host(tb, on)).status?.contextCount === 1,
    );

    // a newer CRD: one more phase, which this operator's schema does not know
    const widen = await tb.cp.kubectl([
      'patch',
      CRD,
      '--type=json',
      '-p',
      JSON.stringify([{ op: 'add', path: `${PHASES}/-`, value: 'Suspended' }]),
    ]);
    expect(widen.code, widen.stderr).to.equal(0);
    widened = true;
    await eventually('the apiserver taking the new phase', async () => {
      await tb.kubectl([
        'patch',
        'appcontext',
        id,
        '--subresource=status',
        '--type=merge',
        '-p',
        '{"status":{"phase":"Suspended"}}',
      ]);
      return true;
    });
    await eventually('an InvalidObject Event on the context', async () => {
      const events = JSON.parse(await tb.kubectl(['get', 'events.events.k8s.io', '-o', 'json'])).items as {
        reason: string;
        regarding: { name: string };
      }[];
      return events.some((e) => e.reason === 'InvalidObject' && e.regarding.name === id);
    });
    const passes = await reconciles(op!, 'mechost');
    await eventually('a few host passes', async () => (await reconciles(op!, 'mechost')) >= passes + 6);
    expect(await managedActions(tb, on)).to.include(action);
    const h: MecHost = await host(tb, on);
    expect(h.status?.contextCount).to.equal(1);
    expect(h.status?.deployedActions).to.include(action);
  });
});
