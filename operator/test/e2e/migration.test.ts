// Re-optimisation against real whisk-sims and kme-sim: an overloaded host and a drained QKD link
// move contexts away (deploy on the target first, then status, Event, origin cleanup), and
// alternating load does not bounce them back and forth.

import type { AppContext } from '@mecqkd/crds';
import { type MecTestbed, startMecTestbed } from '@mecqkd/localenv/mec-testbed';
import { expect } from 'chai';
import type { RunningOperator } from '../../src/operator.ts';
import {
  contexts,
  createApp,
  createContext,
  eventually,
  managedActions,
  placedOn,
  runOperator,
  whisk,
} from './support.ts';

const CARDIO = 'function main(p) { return { risk: 0.1 }; }';
const SLEEPER = 'function main(p) { return new Promise((r) => setTimeout(() => r({ slept: p.ms }), p.ms)); }';

/** Occupies a host's invoker memory: `n` activations of a 128 MB action sleeping `ms`. */
async function overload(tb: MecTestbed, hostName: string, n: number, ms: number): Promise<void> {
  const ow = whisk(tb, hostName);
  await ow.actions.update({ name: 'burner', action: SLEEPER, limits: { memory: 128, timeout: 120_000 } });
  for (let i = 0; i < n; i++) await ow.actions.invoke({ name: 'burner', blocking: false, params: { ms } });
}

async function spreadContexts(tb: MecTestbed, app: string, n: number): Promise<AppContext[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(await createContext(tb, app));
  return eventually(`${n} contexts Placed`, async () => {
    const mine = (await contexts(tb)).filter((c) => ids.includes(c.metadata.name));
    return mine.every((c) => c.status?.phase === 'Placed') && mine;
  });
}

async function migrationEvents(
  tb: MecTestbed,
): Promise<{ regarding: { name: string }; reason: string; note: string }[]> {
  const out = JSON.parse(await tb.kubectl(['get', 'events.events.k8s.io', '-o', 'json']));
  return out.items.filter((e: { reason: string }) => e.reason === 'Migrated');
}

describe('operator migration (e2e)', function () {
  this.timeout(180_000);
  let tb: MecTestbed;
  let op: RunningOperator | undefined;
  const hosts = [
    { name: 'host-1', capacityMb: 512 },
    { name: 'host-2', capacityMb: 512 },
  ];

  afterEach(async () => {
    await op?.stop();
    op = undefined;
    await tb?.stop();
  });

  it('moves contexts off an overloaded host and records each move', async () => {
    tb = await startMecTestbed({ namespace: `op-mig-load-${Date.now().toString(36)}`, hosts });
    op = await runOperator(tb);
    await createApp(tb, 'cardio', CARDIO);
    const before = await spreadContexts(tb, 'cardio', 4);
    const onHost1 = placedOn(before, 'host-1').map((c) => c.metadata.name);
    expect(onHost1.length, 'placement spreads contexts over idle hosts').to.equal(2);
    const action = before[0]!.status!.appInstanceId!.split('/')[1]!;

    await overload(tb, 'host-1', 4, 20_000); // 4 × 128 MB of 512 MB: load 1.0 > maxLoad 0.8
    const after = await eventually('contexts moved to host-2', async () => {
      const all = await contexts(tb);
      return placedOn(all, 'host-2').length === 4 && all;
    });
    for (const c of after.filter((x) => onHost1.includes(x.metadata.name))) {
      expect(c.status?.migrations).to.have.length(1);
      expect(c.status?.migrations?.[0]).to.include({
        from: 'host-1',
        to: 'host-2',
        reason: 'HostOverloaded',
      });
      expect(c.status?.referenceURI).to.contain(tb.whisks['host-2']!.apiHost);
      expect(c.status?.conditions?.find((x) => x.type === 'Ready')?.reason).to.equal('Migrated');
    }
    await eventually('origin action removed, target action present', async () => {
      const [h1, h2] = await Promise.all([managedActions(tb, 'host-1'), managedActions(tb, 'host-2')]);
      return !h1.includes(action) && h2.includes(action);
    });
    const events = await eventually('Migrated Events', async () => {
      const e = await migrationEvents(tb);
      return e.length === 2 && e;
    });
    expect(events.map((e) => e.regarding.name).sort()).to.deep.equal([...onHost1].sort());
    expect(events[0]!.note).to.contain('moved from host-1 to host-2 (HostOverloaded)');
  });

  it('moves contexts off a host whose QKD link is drained', async () => {
    tb = await startMecTestbed({ namespace: `op-mig-keys-${Date.now().toString(36)}`, hosts });
    op = await runOperator(tb);
    await createApp(tb, 'cardio', CARDIO, { minKeyAvailability: 0.2 });
    const before = await spreadContexts(tb, 'cardio', 4);
    const onHost1 = placedOn(before, 'host-1').map((c) => c.metadata.name);
    expect(onHost1).to.have.length(2);
    await tb.adjustLink('host-1', { storedBits: 0, enabled: false });
    const after = await eventually('contexts moved off the drained link', async () => {
      const all = await contexts(tb);
      return placedOn(all, 'host-2').length === 4 && all;
    });
    for (const c of after.filter((x) => onHost1.includes(x.metadata.name))) {
      expect(c.status?.migrations?.[0]).to.include({ from: 'host-1', to: 'host-2', reason: 'KeysLow' });
      expect(c.status?.keyPath).to.deep.equal([tb.clientKmeId, 'KME_HOST_2']);
    }
  });

  it('does not bounce contexts back and forth under alternating load', async () => {
    tb = await startMecTestbed({ namespace: `op-mig-osc-${Date.now().toString(36)}`, hosts });
    op = await runOperator(tb, { migrationCooldown: 60 });
    await createApp(tb, 'cardio', CARDIO);
    await spreadContexts(tb, 'cardio', 4);
    await overload(tb, 'host-1', 4, 4000);
    await eventually(
      'contexts moved to host-2',
      async () => placedOn(await contexts(tb), 'host-2').length === 4,
    );
    // now host-2 is the busy one and host-1 frees up: the moved contexts must stay put
    await overload(tb, 'host-2', 4, 8000);
    const deadline = Date.now() + 12_000;
    while (Date.now() < deadline) {
      for (const c of await contexts(tb))
        expect(c.status?.migrations?.length ?? 0, c.metadata.name).to.be.at.most(1);
      await new Promise((r) => setTimeout(r, 500));
    }
    // contexts that were on host-2 may leave it once it is the busy one; none moves twice
    const moved = (await contexts(tb)).filter((c) => (c.status?.migrations?.length ?? 0) > 0);
    expect(moved.length).to.be.within(2, 4);
    const events = await migrationEvents(tb);
    expect(events.map((e) => e.regarding.name).sort()).to.deep.equal(
      moved.map((c) => c.metadata.name).sort(),
    );
  });
});
