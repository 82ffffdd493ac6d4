// Re-optimisation against real whisk-sims and kme-sim: an overloaded host and a drained QKD link
// move contexts away (deploy on the target first, then status, Event, origin cleanup), and
// alternating load does not bounce them back and forth.

import type { AppContext } from '@mecqkd/crds';
import { type MecTestbed, startMecTestbed } from '@mecqkd/localenv/mec-testbed';
import { expect } from 'chai';
import type { RunningOperator } from '../../src/operator.ts';
import {
  allReady,
  contexts,
  createApp,
  createContext,
  eventually,
  host,
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

/**
 * `n` contexts created at once, when every host can take them: placement alone decides where they
 * go, and the burst is placed by several workers while the first deploy is still under way.
 */
async function spreadContexts(tb: MecTestbed, app: string, n: number): Promise<AppContext[]> {
  await allReady(tb);
  const ids = await Promise.all(Array.from({ length: n }, () => createContext(tb, app)));
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
  this.timeout(240_000);
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

  it('keeps the load margin on targets, and holds a moved context for its cool-down', async () => {
    const cooldownS = 20;
    tb = await startMecTestbed({ namespace: `op-mig-osc-${Date.now().toString(36)}`, hosts });
    op = await runOperator(tb, { migrationCooldown: cooldownS, loadMargin: 0.1 });
    await createApp(tb, 'cardio', CARDIO); // maxLoad 0.8: targets must end below 0.7
    const before = await spreadContexts(tb, 'cardio', 4);
    const first = placedOn(before, 'host-1').map((c) => c.metadata.name);

    // host-2 at 0.75 (inside the margin) for 15 s while host-1 is overloaded for 28 s
    const t0 = Date.now();
    await overload(tb, 'host-2', 3, 15_000);
    await overload(tb, 'host-1', 4, 28_000);
    await eventually('both loads seen by the operator', async () => {
      const [h1, h2] = [await host(tb, 'host-1'), await host(tb, 'host-2')];
      return (h1.status?.load ?? 0) >= 0.8 && (h2.status?.load ?? 0) >= 0.75;
    });
    // both conditions held at once: the margin, not host-2's load, is what keeps the contexts put
    const moved = await eventually('host-1 contexts moved once host-2 left the margin', async () => {
      const all = await contexts(tb);
      return placedOn(all, 'host-2').length === 4 && all;
    });
    for (const c of moved.filter((x) => first.includes(x.metadata.name))) {
      // host-2 cannot drop below 0.75 before its activations end, 15 s after t0
      expect(Date.parse(c.status!.migrations![0]!.time), c.metadata.name).to.be.at.least(t0 + 15_000 - 1000);
    }

    // now host-2 is the busy one; host-1 frees up at t0 + 28 s
    await overload(tb, 'host-2', 4, 45_000);
    const twice = await eventually(
      'a moved context moving again after its cool-down',
      async () => {
        const all = await contexts(tb);
        return all.some((c) => (c.status?.migrations?.length ?? 0) >= 2) && all;
      },
      90_000,
    );
    for (const c of twice) {
      const [m1, m2] = c.status?.migrations ?? [];
      if (m1 && m2)
        expect(Date.parse(m2.time) - Date.parse(m1.time), c.metadata.name).to.be.at.least(cooldownS * 1000);
    }
    const events = await migrationEvents(tb);
    const recorded = twice.reduce((n, c) => n + (c.status?.migrations?.length ?? 0), 0);
    expect(new Set(events.map((e) => e.regarding.name))).to.deep.equal(
      new Set(twice.filter((c) => c.status?.migrations?.length).map((c) => c.metadata.name)),
    );
    expect(recorded).to.be.at.least(3);
  });
});
