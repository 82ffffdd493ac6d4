// What a context owes its device app, from the AppContext alone.
import type { AppContext } from '@mecqkd/crds';
import { expect } from 'chai';
import { KNOWN_LOCATIONS_ANNOTATION, knownLocations, LCMP_FINALIZER } from '../../src/mx2/contexts.ts';
import { decide, NOTIFIED_ANNOTATION, retryDelayMs } from '../../src/notify/decide.ts';

const T1 = '2026-12-01T08:00:00.000Z';
const T2 = '2026-12-01T08:05:00.000Z';

function ctx(
  over: {
    status?: object;
    annotations?: Record<string, string>;
    deleting?: boolean;
    callback?: string | null;
    finalizers?: string[];
  } = {},
): AppContext {
  return {
    apiVersion: 'mecqkd.io/v1alpha1',
    kind: 'AppContext',
    metadata: {
      name: 'c'.repeat(32),
      namespace: 'ns',
      annotations: over.annotations ?? {},
      finalizers: over.finalizers ?? [LCMP_FINALIZER],
      ...(over.deleting ? { deletionTimestamp: T2 } : {}),
    },
    spec: {
      appName: 'cardio',
      associateDevAppId: 'ward-7',
      appLocationUpdates: false,
      appAutoInstantiation: false,
      client: { kmeId: 'KME_C', saeId: 'SAE_C' },
      ...(over.callback === null ? {} : { callbackReference: over.callback ?? 'http://127.0.0.1:1/cb' }),
    },
    status: {
      phase: 'Placed',
      host: 'host-2',
      referenceURI: 'http://h2.example/api/v1/web/ns/default/cardio',
      appInstanceId: 'host-2/cardio',
      hostSaeId: 'SAE_H2',
      hostKmeId: 'KME_H2',
      migrations: [{ from: 'host-1', to: 'host-2', reason: 'KeysLow', time: T1 }],
      ...over.status,
    },
  };
}

describe('notification decisions', () => {
  it('announces the last migration until it is recorded, with the new host QKD identity', () => {
    const w = decide(ctx(), 'mecqkd');
    expect(w.kind).to.equal('deliver');
    if (w.kind !== 'deliver') return;
    expect(w.record).to.equal(T1);
    expect(w.since).to.equal(Date.parse(T1));
    expect(w.notifications.map((n) => n.type)).to.deep.equal([
      'AddressChangeNotification',
      'ApplicationContextUpdateNotification',
    ]);
    expect(w.notifications[0]!.body).to.deep.include({
      referenceURI: 'http://h2.example/api/v1/web/ns/default/cardio',
      vendorSpecificExt: { vendorId: 'mecqkd', hostSaeId: 'SAE_H2', hostKmeId: 'KME_H2' },
    });
    expect(decide(ctx({ annotations: { [NOTIFIED_ANNOTATION]: T1 } }), 'mecqkd').kind).to.equal('none');
  });

  it("tells the device app the app's key use (N, declared demand) beside the host's QKD identity", () => {
    const w = decide(ctx(), 'mecqkd', undefined, { invocationsPerKey: 10, expectedInvocationsPerSecond: 2 });
    if (w.kind !== 'deliver') throw new Error(`expected a delivery, got ${w.kind}`);
    const ext = {
      vendorId: 'mecqkd',
      hostSaeId: 'SAE_H2',
      hostKmeId: 'KME_H2',
      invocationsPerKey: 10,
      expectedInvocationsPerSecond: 2,
    };
    expect(w.notifications[0]!.body).to.deep.include({ vendorSpecificExt: ext });
    const update = w.notifications[1]!.body as { userAppInstanceInfo: { vendorSpecificExt?: unknown }[] };
    expect(update.userAppInstanceInfo[0]!.vendorSpecificExt).to.deep.equal(ext);
  });

  it('announces a newer migration after an older one was recorded', () => {
    const c = ctx({
      annotations: { [NOTIFIED_ANNOTATION]: T1 },
      status: {
        migrations: [
          { from: 'host-1', to: 'host-2', reason: 'KeysLow', time: T1 },
          { from: 'host-2', to: 'host-1', reason: 'HostOverloaded', time: T2 },
        ],
      },
    });
    const w = decide(c, 'mecqkd');
    expect(w.kind === 'deliver' && w.record).to.equal(T2);
  });

  it('waits while Migrating, and says nothing without a callback or a migration', () => {
    expect(decide(ctx({ status: { phase: 'Migrating' } }), 'x').kind).to.equal('none');
    expect(decide(ctx({ callback: null }), 'x').kind).to.equal('none');
    expect(decide(ctx({ status: { migrations: undefined } }), 'x').kind).to.equal('none');
  });

  it('announces a deletion only while the LCMP finalizer says the client did not ask for it', () => {
    const w = decide(ctx({ deleting: true }), 'x');
    expect(w.kind === 'deliver' && w.notifications.map((n) => n.body)).to.deep.equal([
      { notificationType: 'ApplicationContextDeleteNotification', contextId: 'c'.repeat(32) },
    ]);
    expect(decide(ctx({ deleting: true, finalizers: [] }), 'x').kind).to.equal('none');
    expect(decide(ctx({ deleting: true, callback: null }), 'x').kind).to.equal('release');
  });

  it('backs off exponentially with jitter, capped', () => {
    expect(retryDelayMs(0, 100, 10_000, () => 0.5)).to.equal(100);
    expect(retryDelayMs(3, 100, 10_000, () => 0.5)).to.equal(800);
    expect(retryDelayMs(3, 100, 10_000, () => 0)).to.equal(400);
    expect(retryDelayMs(40, 100, 10_000, () => 0.99)).to.be.within(10_000, 15_000);
  });
});

describe('location availability decisions (MEC 016 6.4.5)', () => {
  const IT = { countryCode: 'IT' };
  const MILAN = { countryCode: 'IT', civicAddressElement: [{ caType: 3, caValue: 'Milano' }] };
  const subscribed = (known: object[] | undefined) => {
    const c = ctx({
      status: { migrations: [] },
      annotations: known ? { [KNOWN_LOCATIONS_ANNOTATION]: knownLocations(known as never[]) } : {},
    });
    return { ...c, spec: { ...c.spec, appLocationUpdates: true, appLocation: IT } } as AppContext;
  };

  it('announces a requested location that became available, with every available one, once', () => {
    const w = decide(subscribed([IT]), 'mecqkd', [IT, MILAN]);
    expect(w.kind).to.equal('deliver');
    if (w.kind !== 'deliver') return;
    expect(w.what).to.equal('locations');
    expect(w.notifications).to.deep.equal([
      {
        type: 'ApplicationLocationAvailabilityNotification',
        body: {
          notificationType: 'ApplicationLocationAvailabilityNotification',
          contextId: 'c'.repeat(32),
          availableLocations: [{ appLocation: IT }, { appLocation: MILAN }],
        },
      },
    ]);
    expect(w.record).to.equal(knownLocations([MILAN, IT]));
    // recorded: nothing more
    expect(decide(subscribed([IT, MILAN]), 'mecqkd', [IT, MILAN]).kind).to.equal('none');
  });

  it('records silently what went away, so that its return is announced', () => {
    const w = decide(subscribed([IT, MILAN]), 'mecqkd', [IT]);
    expect(w).to.deep.include({ kind: 'deliver', what: 'locations', notifications: [] });
    if (w.kind === 'deliver') expect(w.record).to.equal(knownLocations([IT]));
  });

  it('owes nothing without appLocationUpdates, a callback, or anything new', () => {
    const c = subscribed([IT]);
    expect(
      decide({ ...c, spec: { ...c.spec, appLocationUpdates: false } }, 'mecqkd', [IT, MILAN]).kind,
    ).to.equal('none');
    const { callbackReference: _cb, ...noCallback } = c.spec;
    expect(decide({ ...c, spec: noCallback } as AppContext, 'mecqkd', [IT, MILAN]).kind).to.equal('none');
    expect(decide(c, 'mecqkd', [IT]).kind).to.equal('none');
    expect(decide(c, 'mecqkd', undefined).kind).to.equal('none');
  });

  it('announces a pending migration before availability', () => {
    const c = subscribed([IT]);
    const moved = {
      ...c,
      status: { ...c.status, migrations: [{ from: 'host-1', to: 'host-2', reason: 'KeysLow', time: T1 }] },
    } as AppContext;
    const w = decide(moved, 'mecqkd', [IT, MILAN]);
    expect(w).to.deep.include({ kind: 'deliver', what: 'migration' });
  });
});
