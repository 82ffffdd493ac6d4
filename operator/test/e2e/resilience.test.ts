// The operator as a process: SIGKILL mid-way and a restart converge with no leaked and no
// duplicated action; two replicas elect one leader while the other stays idle, and the other
// takes over once the leader is killed and its Lease has expired.

import { type MecTestbed, startMecTestbed } from '@mecqkd/localenv/mec-testbed';
import { expect } from 'chai';
import {
  contexts,
  createApp,
  createContext,
  eventually,
  getJson,
  managedActions,
  metricSum,
  type OperatorProcess,
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

const lease = (tb: MecTestbed) => getJson<Lease>(tb, 'lease', 'mecqkd-operator');
const phaseOf = async (tb: MecTestbed, id: string) =>
  (await contexts(tb)).find((c) => c.metadata.name === id)?.status?.phase;

/** What a replica has done as a leader: reconciles run and LISTs sent by its informers. */
async function work(op: OperatorProcess) {
  return {
    leading: await metricSum(op, 'leader_election_master_status'),
    reconciles: await metricSum(op, 'controller_runtime_reconcile_total'),
    lists: await metricSum(op, 'mecqkd_informer_list_requests_total'),
  };
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
    // while nobody leads: a context to place and one to finalize, which only the next leader can do
    const added = await createContext(tb, 'model-2');
    await tb.kubectl(['delete', 'appcontext', ids[3]!, '--wait=false']);
    op = await runOperatorProcess(tb, 'operator-c');
    await eventually(
      'operator-c takes the Lease (after operator-b’s expired)',
      async () => (await lease(tb)).spec.holderIdentity === 'operator-c',
      60_000,
    );
    await eventually(
      'operator-c places the new context',
      async () => (await phaseOf(tb, added)) === 'Placed',
      60_000,
    );
    await eventually(
      'operator-c finalizes the deleted context',
      async () => !(await contexts(tb)).some((c) => c.metadata.name === ids[3]),
      60_000,
    );
    await eventually(
      'every host carries exactly the actions its contexts use, after operator-c’s passes',
      () => actionsMatchContexts(tb),
      60_000,
    );
    await op.stop();
  });

  it('runs two replicas: one leads, the other stays idle, and takes over once the leader is killed', async () => {
    tb = await startMecTestbed({ namespace: `op-ha-${Date.now().toString(36)}` });
    await createApp(tb, 'model-1', MODEL(1));
    const replicas: Record<string, OperatorProcess> = {
      'replica-a': await runOperatorProcess(tb, 'replica-a'),
      'replica-b': await runOperatorProcess(tb, 'replica-b'),
    };
    const first = await eventually('a leader', async () => (await lease(tb)).spec.holderIdentity, 60_000);
    expect(first).to.be.oneOf(Object.keys(replicas));
    const leader = replicas[first]!;
    const [followerName, follower] = Object.entries(replicas).find(([n]) => n !== first)!;
    // the follower is up and campaigning before the leader is given work
    await eventually(
      'the follower serves its metrics',
      async () => (await fetch(`${follower.healthUrl}/readyz`)).ok,
      60_000,
    );
    const id = await createContext(tb, 'model-1');
    await eventually('placed by the leader', async () => (await phaseOf(tb, id)) === 'Placed', 60_000);
    const led = await work(leader);
    expect(led.leading).to.equal(1);
    expect(led.reconciles).to.be.greaterThan(0);
    // while the leader leads, the follower holds no informer and runs no reconcile
    expect(await work(follower)).to.deep.equal({ leading: 0, reconciles: 0, lists: 0 });
    expect((await lease(tb)).spec.holderIdentity).to.equal(first);

    const killedAt = Date.now();
    await leader.stop('SIGKILL');
    await eventually(
      'the follower takes over',
      async () => (await lease(tb)).spec.holderIdentity === followerName,
      60_000,
    );
    // no release after SIGKILL: it waited for the Lease to expire (counted from its last renewal,
    // a retry period or so before the kill)
    const { leaseDurationSeconds } = (await lease(tb)).spec;
    expect(Date.now() - killedAt).to.be.at.least((leaseDurationSeconds ?? 4) * 1000 - 1000);
    const next = await createContext(tb, 'model-1');
    await eventually('the new leader places', async () => (await phaseOf(tb, next)) === 'Placed', 60_000);
    expect((await work(follower)).reconciles).to.be.greaterThan(0);
    await follower.stop();
  });
});
