// The operator against the real control plane, Redis, whisk-sim and kme-sim: readiness, placement,
// shared actions, cleanup, and Pending until capacity returns.

import type { MecHost, QkdLink } from '@mecqkd/crds';
import { type MecTestbed, startMecTestbed } from '@mecqkd/localenv/mec-testbed';
import { expect } from 'chai';
import type { RunningOperator } from '../../src/operator.ts';
import {
  clientKme,
  contexts,
  createApp,
  createContext,
  eventually,
  getJson,
  managedActions,
  runOperator,
  secureInvoker,
} from './support.ts';

const ECHO = 'function main(p) { return { echo: p.x ?? null, host: process.env.__OW_API_HOST }; }';

describe('operator lifecycle (e2e)', function () {
  this.timeout(120_000);
  let tb: MecTestbed;
  let op: RunningOperator;

  before(async () => {
    tb = await startMecTestbed({ namespace: `op-life-${Date.now().toString(36)}` });
    op = await runOperator(tb);
    await op.leading;
  });
  after(async () => {
    await op?.stop();
    await tb?.stop();
  });

  it('makes hosts and links Ready from probes and telemetry', async () => {
    const hosts = await eventually('both MecHosts Ready with fresh load', async () => {
      const list = (await getJson<{ items: MecHost[] }>(tb, 'mechosts')).items;
      const ok = list.every(
        (h) =>
          h.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') &&
          h.status.load !== undefined,
      );
      return list.length === 2 && ok && list;
    });
    expect(hosts.map((h) => h.status?.load)).to.deep.equal([0, 0]);
    const links = await eventually('QkdLinks ACTIVE', async () => {
      const list = (await getJson<{ items: QkdLink[] }>(tb, 'qkdlinks')).items;
      return list.every((l) => l.status?.state === 'ACTIVE') && list;
    });
    for (const l of links) {
      expect(l.status?.keyAvailability).to.be.within(0.9, 1);
      expect(l.status?.secretKeyRate).to.be.greaterThan(0);
      expect(l.status?.conditions?.find((c) => c.type === 'Ready')?.status).to.equal('True');
    }
  });

  it('places a context, deploys its action, and the referenceURI invokes it', async () => {
    await createApp(tb, 'echo', ECHO);
    const id = await createContext(tb, 'echo');
    const ctx = await eventually('context Placed', async () =>
      (await contexts(tb)).find((c) => c.metadata.name === id && c.status?.phase === 'Placed'),
    );
    const s = ctx.status!;
    expect(s.host).to.be.oneOf(['host-1', 'host-2']);
    expect(s.keyPath).to.deep.equal([tb.clientKmeId, `KME_${s.host!.toUpperCase().replace('-', '_')}`]);
    expect(s.hostSaeId).to.match(/^SAE_HOST_/);
    const action = s.appInstanceId!.split('/')[1]!;
    expect(await managedActions(tb, s.host!)).to.deep.equal([action]);
    const kme = clientKme(tb);
    const inv = secureInvoker(tb, kme, ctx);
    expect(await inv.invoke({ x: 42 })).to.include({ echo: 42 });
    inv.close();
    kme.close();
    expect(ctx.status?.conditions?.find((c) => c.type === 'Ready')).to.include({
      status: 'True',
      reason: 'Placed',
    });
  });

  it('shares one action between contexts of an app on a host, and removes it with the last one', async () => {
    await createApp(tb, 'shared', ECHO, {}, { parameters: { variant: 'shared' } });
    const ids = await Promise.all([1, 2, 3, 4].map(() => createContext(tb, 'shared')));
    const placed = await eventually('four contexts Placed', async () => {
      const mine = (await contexts(tb)).filter((c) => ids.includes(c.metadata.name));
      return mine.every((c) => c.status?.phase === 'Placed') && mine;
    });
    const byHost = new Map<string, string[]>();
    for (const c of placed)
      byHost.set(c.status!.host!, [...(byHost.get(c.status!.host!) ?? []), c.metadata.name]);
    const action = placed[0]!.status!.appInstanceId!.split('/')[1]!;
    expect(new Set(placed.map((c) => c.status!.appInstanceId!.split('/')[1]))).to.deep.equal(
      new Set([action]),
    );
    for (const [h] of byHost)
      expect((await managedActions(tb, h)).filter((a) => a === action)).to.have.length(1);
    // delete all but one on each host: the action stays while a user remains
    for (const [h, names] of byHost) {
      for (const n of names.slice(1)) await tb.kubectl(['delete', 'appcontext', n, '--wait=true']);
      expect(await managedActions(tb, h)).to.include(action);
    }
    for (const [h, names] of byHost) {
      await tb.kubectl(['delete', 'appcontext', names[0]!, '--wait=true']);
      expect(await managedActions(tb, h)).to.not.include(action);
    }
  });

  it('keeps a context Pending with a reason while no host fits, and places it when capacity returns', async () => {
    for (const h of ['host-1', 'host-2'])
      await tb.kubectl([
        'patch',
        'mechost',
        h,
        '--type=merge',
        '-p',
        '{"spec":{"capacity":{"maxContexts":1}}}',
      ]);
    const existing = (await contexts(tb)).length; // the echo context from above holds one host
    expect(existing).to.equal(1);
    const second = await createContext(tb, 'echo');
    await eventually('second context Placed', async () =>
      (await contexts(tb)).find((c) => c.metadata.name === second && c.status?.phase === 'Placed'),
    );
    const third = await createContext(tb, 'echo');
    const pending = await eventually('third context Pending', async () =>
      (await contexts(tb)).find((c) => c.metadata.name === third && c.status?.phase === 'Pending'),
    );
    const ready = pending.status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready?.status).to.equal('False');
    expect(ready?.reason).to.match(/Full|Contexts/);
    expect(ready?.message).to.contain('host-1').and.to.contain('host-2');
    await tb.kubectl([
      'patch',
      'mechost',
      'host-2',
      '--type=merge',
      '-p',
      '{"spec":{"capacity":{"maxContexts":5}}}',
    ]);
    const placed = await eventually('third context Placed once host-2 has room', async () =>
      (await contexts(tb)).find((c) => c.metadata.name === third && c.status?.phase === 'Placed'),
    );
    expect(placed.status?.host).to.equal('host-2');
    const action = placed.status!.appInstanceId!.split('/')[1]!;
    expect(await managedActions(tb, 'host-2')).to.include(action);
  });
});
