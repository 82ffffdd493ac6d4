// The operator as a process: SIGKILL mid-way and a restart converge with no leaked and no
// duplicated action; two replicas elect one leader, which fails over within the lease bound.

import { type MecTestbed, startMecTestbed } from '@mecqkd/localenv/mec-testbed';
import { expect } from 'chai';
import {
  contexts,
  createApp,
  createContext,
  eventually,
  getJson,
  managedActions,
  runOperatorProcess,
} from './support.ts';

const MODEL = (n: number) => `function main(p) { return { model: ${n} }; }`;

/** Every host carries exactly the actions its placed contexts use: one per (host, app), nothing else. */
async function actionsMatchContexts(tb: MecTestbed): Promise<boolean> {
  const all = await contexts(tb);
  if (!all.every((c) => c.status?.phase === 'Placed')) return false;
  for (const h of tb.hosts) {
    const used = new Set(
      all.filter((c) => c.status?.host === h.name).map((c) => c.status!.appInstanceId!.split('/')[1]!),
    );
    const present = await managedActions(tb, h.name);
    if (present.length !== used.size || !present.every((a) => used.has(a))) return false;
  }
  return true;
}

interface Lease {
  spec: { holderIdentity?: string; leaseDurationSeconds?: number; renewTime?: string };
}

describe('operator resilience (e2e, operator processes)', function () {
  this.timeout(180_000);
  let tb: MecTestbed;

  afterEach(async () => {
    await tb?.stop();
  });

  it('converges after SIGKILL mid-way: no leaked, no duplicated action', async () => {
    tb = await startMecTestbed({ namespace: `op-kill-${Date.now().toString(36)}` });
    for (const n of [1, 2, 3]) await createApp(tb, `model-${n}`, MODEL(n));
    let op = await runOperatorProcess(tb, 'operator-a');
    const ids: string[] = [];
    for (let i = 0; i < 9; i++) ids.push(await createContext(tb, `model-${(i % 3) + 1}`));
    // kill as soon as the first contexts are placed: deploys and status writes are in flight
    await eventually(
      'first placement',
      async () => (await contexts(tb)).some((c) => c.status?.phase === 'Placed'),
      60_000,
    );
    await op.stop('SIGKILL');
    // while it is down: delete some contexts (finalizers hold them) and add others
    for (const id of ids.slice(0, 3)) await tb.kubectl(['delete', 'appcontext', id, '--wait=false']);
    for (let i = 0; i < 3; i++) await createContext(tb, 'model-1');
    op = await runOperatorProcess(tb, 'operator-b');
    await eventually(
      'deleted contexts gone',
      async () => {
        const names = new Set((await contexts(tb)).map((c) => c.metadata.name));
        return ids.slice(0, 3).every((id) => !names.has(id));
      },
      60_000,
    );
    await eventually(
      'every host carries exactly the actions its contexts use',
      () => actionsMatchContexts(tb),
      60_000,
    );
    await op.stop('SIGKILL'); // and again, mid-steady-state
    op = await runOperatorProcess(tb, 'operator-c');
    await new Promise((r) => setTimeout(r, 3000));
    expect(await actionsMatchContexts(tb)).to.equal(true);
    await op.stop();
  });

  it('runs two replicas with one leader, and fails over within the lease bound after SIGKILL', async () => {
    tb = await startMecTestbed({ namespace: `op-ha-${Date.now().toString(36)}` });
    await createApp(tb, 'model-1', MODEL(1));
    const replicas = {
      'replica-a': await runOperatorProcess(tb, 'replica-a'),
      'replica-b': await runOperatorProcess(tb, 'replica-b'),
    };
    const lease = () => getJson<Lease>(tb, 'lease', 'mecqkd-operator');
    const first = await eventually('a leader', async () => (await lease()).spec.holderIdentity, 60_000);
    expect(first).to.be.oneOf(Object.keys(replicas));
    const id = await createContext(tb, 'model-1');
    await eventually(
      'placed by the leader',
      async () => (await contexts(tb)).find((c) => c.metadata.name === id)?.status?.phase === 'Placed',
      60_000,
    );
    // the follower must not act: only one holder, and it does not change while both run
    await new Promise((r) => setTimeout(r, 3000));
    expect((await lease()).spec.holderIdentity).to.equal(first);

    const killedAt = Date.now();
    await replicas[first as keyof typeof replicas].stop('SIGKILL');
    const second = await eventually(
      'the other replica takes over',
      async () => {
        const h = (await lease()).spec.holderIdentity;
        return h && h !== first ? h : undefined;
      },
      30_000,
    );
    const failoverMs = Date.now() - killedAt;
    const { leaseDurationSeconds } = (await lease()).spec;
    // client-go's bound: the follower counts expiry from the last renewal it saw
    const boundMs = (leaseDurationSeconds ?? 4) * 1000 + 2 * 2.2 * 500 + 1000;
    expect(failoverMs, `failover took ${failoverMs} ms`).to.be.at.most(boundMs);
    const next = await createContext(tb, 'model-1');
    await eventually(
      'the new leader places',
      async () => (await contexts(tb)).find((c) => c.metadata.name === next)?.status?.phase === 'Placed',
      60_000,
    );
    await replicas[second as keyof typeof replicas].stop();
  });
});
