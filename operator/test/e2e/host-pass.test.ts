// The host pass keeps the action invariant both ways against real whisk-sims and kme-sim: what a
// placed context needs comes back when deleted by hand, a deleted MecHost hands its contexts to
// another host, and the MecHost status drops what disappears and is not rewritten when unchanged.

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
  placedOn,
  reconciles,
  runOperator,
  whisk,
} from './support.ts';

const ECHO = 'function main(p) { return { echo: p.x ?? null }; }';
const isReady = (h: MecHost) => h.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

describe('operator host pass (e2e)', function () {
  this.timeout(120_000);
  let tb: MecTestbed;
  let op: RunningOperator | undefined;

  describe('actions and hosts', () => {
    afterEach(async () => {
      await op?.stop();
      op = undefined;
      await tb?.stop();
    });

    it('redeploys an action deleted by hand on OpenWhisk within a probe period', async () => {
      tb = await startMecTestbed({ namespace: `op-redeploy-${Date.now().toString(36)}` });
      // no optimiser and no Pending retries: only the host pass can bring the action back
      op = await runOperator(tb, { probePeriod: 2, optimisePeriod: 0 });
      await createApp(tb, 'echo', ECHO);
      const id = await createContext(tb, 'echo');
      const ctx = await eventually('context Placed', async () =>
        (await contexts(tb)).find((c) => c.metadata.name === id && c.status?.phase === 'Placed'),
      );
      const on = ctx.status!.host!;
      const action = ctx.status!.appInstanceId!.split('/')[1]!;
      await eventually('the action listed in the host status', async () =>
        (await host(tb, on)).status?.deployedActions?.includes(action),
      );
      // twice: a reconcile of the context still in the queue might bring it back once, by chance
      for (const round of [1, 2]) {
        await whisk(tb, on).actions.delete({ name: action });
        expect(await managedActions(tb, on), `round ${round}`).to.not.include(action);
        await eventually(`the action back on the host (round ${round})`, async () =>
          (await managedActions(tb, on)).includes(action),
        );
      }
      const h = await eventually('the host status listing it', async () => {
        const s = await host(tb, on);
        return s.status?.deployedActions?.includes(action) && s;
      });
      expect(h.status?.deployedActions).to.deep.equal(await managedActions(tb, on));
    });

    it('moves the contexts of a deleted MecHost to another host, then removes its actions', async () => {
      tb = await startMecTestbed({ namespace: `op-hostdel-${Date.now().toString(36)}` });
      op = await runOperator(tb, { optimisePeriod: 0 });
      await createApp(tb, 'echo', ECHO);
      const ids = [await createContext(tb, 'echo'), await createContext(tb, 'echo')];
      const before = await eventually('both contexts Placed', async () => {
        const mine = (await contexts(tb)).filter((c) => ids.includes(c.metadata.name));
        return mine.length === 2 && mine.every((c) => c.status?.phase === 'Placed') && mine;
      });
      const doomed = before[0]!.status!.host!;
      const other = doomed === 'host-1' ? 'host-2' : 'host-1';
      const onDoomed = placedOn(before, doomed).map((c) => c.metadata.name);
      expect(onDoomed.length).to.be.greaterThan(0);
      await tb.kubectl(['delete', 'mechost', doomed, '--wait=false']);
      const after = await eventually(`contexts re-placed on ${other}`, async () => {
        const all = (await contexts(tb)).filter((c) => ids.includes(c.metadata.name));
        return placedOn(all, other).length === 2 && all;
      });
      for (const c of after) expect(c.status?.referenceURI).to.contain(tb.whisks[other]!.apiHost);
      await eventually(
        `MecHost ${doomed} gone`,
        async () => !(await tb.kubectl(['get', 'mechosts', '-o', 'name'])).includes(`/${doomed}\n`),
      );
      expect(await managedActions(tb, doomed)).to.deep.equal([]);
      const action = after[0]!.status!.appInstanceId!.split('/')[1]!;
      expect(await managedActions(tb, other)).to.include(action);
    });
  });

  describe('MecHost status', () => {
    before(async () => {
      tb = await startMecTestbed({ namespace: `op-status-${Date.now().toString(36)}` });
      // one telemetry sample that stays fresh: nothing in the world changes after it
      op = await runOperator(tb, { telemetryPeriod: 3600, maxTelemetryAge: 3600, optimisePeriod: 0 });
    });
    after(async () => {
      await op?.stop();
      op = undefined;
      await tb?.stop();
    });

    it('is not rewritten while nothing changes', async () => {
      const h = await eventually('host-1 Ready with full key stock', async () => {
        const s = await host(tb, 'host-1');
        return isReady(s) && s.status?.keyAvailability === 1 && s.status.load !== undefined && s;
      });
      const passes = await reconciles(op!, 'mechost');
      // both hosts run a pass every probe period: wait for a few of each
      await eventually(
        'four more passes per host',
        async () => (await reconciles(op!, 'mechost')) >= passes + 8,
      );
      expect((await host(tb, 'host-1')).metadata.resourceVersion).to.equal(h.metadata.resourceVersion);
    });

    it('drops fields that disappear', async () => {
      await tb.kubectl(['delete', 'qkdlinks', '--all']);
      const h = await eventually('host-1 without key availability', async () => {
        const s = await host(tb, 'host-1');
        return s.status?.keyAvailability === undefined && s;
      });
      expect(h.status?.load).to.be.a('number');
    });
  });
});
