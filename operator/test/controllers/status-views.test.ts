import { expect } from 'chai';
import {
  pendingStatus,
  placedStatus,
  rejectedStatus,
  sameStatus,
} from '../../src/controllers/appcontext-status.ts';
import { ContextIndex } from '../../src/controllers/context-index.ts';
import { appDemand, hostViews, linkViews } from '../../src/controllers/views.ts';
import { app, context, host, key, link, placed } from './fixtures.ts';

const now = new Date('2026-02-01T10:00:00Z');
const placement = {
  host: 'h1',
  hostKey: 'ns/h1',
  action: 'mecqkd-cardio-abc',
  referenceURI: 'http://127.0.0.1:1/api/v1/namespaces/_/actions/mecqkd-cardio-abc',
  hostKmeId: 'KME_H1',
  hostSaeId: 'SAE_H1',
  keyPath: ['KME_C', 'KME_R', 'KME_H1'],
};

describe('AppContext status', () => {
  it('records a placement with its Ready condition alone at the observed generation', () => {
    const s = placedStatus(context('cardio'), placement, now);
    expect(s).to.include({
      phase: 'Placed',
      host: 'h1',
      appInstanceId: 'h1/mecqkd-cardio-abc',
      hostSaeId: 'SAE_H1',
    });
    expect(s.placedTime).to.equal(now.toISOString());
    expect(s.conditions?.map((c) => [c.type, c.status, c.reason])).to.deep.equal([
      ['Ready', 'True', 'Placed'],
    ]);
    expect(s.conditions?.[0]?.message).to.contain('2 QKD hops KME_C → KME_R → KME_H1');
  });

  it('drops the Admitted condition an older operator wrote', () => {
    const older = {
      type: 'Admitted',
      status: 'True',
      reason: 'Admitted',
      message: 'app cardio exists and its constraints can be met',
      observedGeneration: 1,
      lastTransitionTime: '2026-01-01T00:00:00Z',
    };
    const ctx = context('cardio', { ...placed('h1', 'a'), conditions: [older] });
    for (const s of [
      placedStatus(ctx, placement, now),
      pendingStatus(ctx, 'HostsOverloaded', 'all hosts above 0.8', now),
      rejectedStatus(ctx, 'AppNotFound', 'no MecApp', now),
    ])
      expect(s.conditions?.map((c) => c.type)).to.deep.equal(['Ready']);
  });

  it('is unchanged by a second reconcile (no write), keeping times', () => {
    const ctx = context('cardio');
    const first = placedStatus(ctx, placement, now);
    const again = placedStatus({ ...ctx, status: first }, placement, new Date(now.getTime() + 60_000));
    expect(sameStatus(first, again)).to.equal(true);
  });

  it('drops the placement fields when a context falls back to Pending or Rejected', () => {
    const ctx = context('cardio', placed('h1', 'a'));
    const pending = pendingStatus(ctx, 'HostsOverloaded', 'all hosts above 0.8', now);
    expect(pending).to.not.have.any.keys('host', 'appInstanceId', 'keyPath');
    expect(pending.phase).to.equal('Pending');
    expect(pending.conditions?.find((c) => c.type === 'Ready')?.reason).to.equal('HostsOverloaded');
    const rejected = rejectedStatus(ctx, 'AppNotFound', 'no MecApp', now);
    expect(rejected.conditions?.every((c) => c.status === 'False')).to.equal(true);
  });

  it('keeps a bounded migration history', () => {
    let ctx = context('cardio');
    for (let i = 0; i < 25; i++) {
      const s = placedStatus(ctx, { ...placement, host: `h${i % 2}` }, now, {
        from: `h${(i + 1) % 2}`,
        to: `h${i % 2}`,
        reason: 'HostOverloaded',
      });
      ctx = { ...ctx, status: s };
    }
    expect(ctx.status?.migrations).to.have.length(20);
  });
});

describe('placement views', () => {
  const opts = { maxTelemetryAgeMs: 30_000, expectedActivationMs: 100 };
  const t = Date.parse('2026-02-01T10:00:00Z');
  const ready = (load: number, age = 1000) => ({
    load,
    telemetryTime: new Date(t - age).toISOString(),
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'HostReady',
        message: '',
        lastTransitionTime: '2026-01-01T00:00:00Z',
      },
    ],
  });

  it('derives per-context demand from invocations, key policy and action memory', () => {
    const a = app('cardio', {
      action: { code: 'x', limits: { memoryMb: 256 } },
      placement: { expectedInvocationsPerSecond: 4, invocationsPerKey: 2, keySizeBits: 256 },
    });
    const d = appDemand(a, [host('h1', 'K1'), host('h2', 'K2')], opts);
    expect(d.keyRate).to.equal(512);
    expect(d.loadPerContext).to.be.closeTo((4 * 0.1 * 256) / 1024, 1e-9);
  });

  it('marks hosts with stale telemetry or no Ready condition as not ready', () => {
    const idx = new ContextIndex();
    const views = hostViews(
      [
        host('h1', 'K1', ready(0.2)),
        host('h2', 'K2', ready(0.2, 60_000)),
        host('h3', 'K3', { load: 0.1, telemetryTime: new Date(t).toISOString() }),
      ],
      idx,
      () => undefined,
      t,
      opts,
    );
    expect(views.map((v) => v.ready)).to.deep.equal([true, false, false]);
  });

  it('adds the load of contexts placed after the last measurement', () => {
    const idx = new ContextIndex();
    const c = context('cardio', placed('h1', 'a', new Date(t - 500).toISOString()));
    idx.upsert(key(c), c);
    const demand = { ...appDemand(app('cardio'), [], opts), loadPerContext: 0.05 };
    const [v] = hostViews([host('h1', 'K1', ready(0.2, 1000))], idx, () => demand, t, opts);
    expect(v!.load).to.be.closeTo(0.25, 1e-9);
    expect(v!.contexts).to.equal(1);
  });

  it('charges committed key rate on each link a placed context routes over', () => {
    const idx = new ContextIndex();
    for (let i = 0; i < 3; i++) {
      const c = context('cardio', placed('h1', 'a', undefined, ['KME_C', 'K1']));
      idx.upsert(key(c), c);
    }
    const demand = { ...appDemand(app('cardio'), [], opts), keyRate: 256 };
    const [l] = linkViews(
      [
        link('c-1', 'KME_C', 'K1', {
          state: 'ACTIVE',
          keyAvailability: 0.5,
          secretKeyRate: 1e4,
          probeTime: new Date(t).toISOString(),
        }),
      ],
      idx,
      () => demand,
      t,
      opts,
    );
    expect(l).to.include({ committedKeyRate: 768, state: 'ACTIVE', fresh: true });
  });
});
