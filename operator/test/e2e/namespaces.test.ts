// Identity is namespace/name: one operator watching all namespaces, two MEC testbeds in two
// namespaces, each with a MecHost named edge-1 (its own OpenWhisk, its own KMEs with the same IDs).

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
  runOperator,
} from './support.ts';

const ECHO = 'function main(p) { return { echo: p.x ?? null }; }';

describe('operator across namespaces (e2e)', function () {
  this.timeout(180_000);
  let a: MecTestbed;
  let b: MecTestbed;
  let op: RunningOperator | undefined;

  before(async () => {
    const stamp = Date.now().toString(36);
    a = await startMecTestbed({ namespace: `op-ns-a-${stamp}`, hosts: [{ name: 'edge-1' }] });
    b = await startMecTestbed({ namespace: `op-ns-b-${stamp}`, hosts: [{ name: 'edge-1' }] });
    op = await runOperator(a, { namespace: undefined, optimisePeriod: 0 });
    await op.leading;
  });
  after(async () => {
    await op?.stop();
    await a?.stop();
    await b?.stop();
  });

  it('keeps the endpoints and usage of two same-named MecHosts apart', async () => {
    await createApp(a, 'echo', ECHO);
    await createApp(b, 'echo', ECHO);
    const inA = [await createContext(a, 'echo')];
    const inB = [await createContext(b, 'echo'), await createContext(b, 'echo')];
    const placed = async (tb: MecTestbed, ids: string[]) =>
      eventually(`${ids.length} contexts Placed in ${tb.namespace}`, async () => {
        const mine = (await contexts(tb)).filter((c) => ids.includes(c.metadata.name));
        return mine.length === ids.length && mine.every((c) => c.status?.phase === 'Placed') && mine;
      });
    const [ctxA, ctxB] = [await placed(a, inA), await placed(b, inB)];
    for (const [tb, ctxs] of [
      [a, ctxA],
      [b, ctxB],
    ] as const) {
      for (const c of ctxs) expect(c.status?.referenceURI).to.contain(tb.whisks['edge-1']!.apiHost);
      const action = ctxs[0]!.status!.appInstanceId!.split('/')[1]!;
      expect(await managedActions(tb, 'edge-1'), tb.namespace).to.include(action);
    }
    await eventually('each edge-1 counts only its own contexts', async () => {
      const [ha, hb] = [await host(a, 'edge-1'), await host(b, 'edge-1')];
      return ha.status?.contextCount === 1 && hb.status?.contextCount === 2;
    });
    // the last context in a goes: its action leaves a's OpenWhisk, b's stays
    const action = ctxA[0]!.status!.appInstanceId!.split('/')[1]!;
    await a.kubectl(['delete', 'appcontext', inA[0]!, '--wait=true']);
    await eventually(
      "the action gone from a's edge-1",
      async () => !(await managedActions(a, 'edge-1')).includes(action),
    );
    expect(await managedActions(b, 'edge-1')).to.include(action);
  });
});
