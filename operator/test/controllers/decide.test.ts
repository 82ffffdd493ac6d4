import type { AppContext, MecApp, MecHost, QkdLink } from '@mecqkd/crds';
import { expect } from 'chai';
import { AppActions, type ConfigMap } from '../../src/controllers/app-actions.ts';
import { decide, decideFinalize, plannedUsage } from '../../src/controllers/appcontext.ts';
import { ContextIndex } from '../../src/controllers/context-index.ts';
import { seededRng } from '../../src/placement/rng.ts';
import { DEFAULT_WEIGHTS } from '../../src/placement/score.ts';
import { fakeCache } from './fake-cache.ts';
import { app, context, host, key, link, placed } from './fixtures.ts';

const t = Date.parse('2026-02-01T10:00:00Z');
const readyHost = (name: string, kmeId: string, over: Partial<MecHost['metadata']> = {}) => {
  const h = host(name, kmeId, {
    load: 0.1,
    telemetryTime: new Date(t - 1000).toISOString(),
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
  return { ...h, metadata: { ...h.metadata, ...over } } as MecHost;
};
const activeLink = (name: string, a: string, b: string) =>
  link(name, a, b, {
    state: 'ACTIVE',
    keyAvailability: 1,
    secretKeyRate: 1e5,
    probeTime: new Date(t - 1000).toISOString(),
  });

function world(o: {
  apps?: MecApp[];
  hosts?: MecHost[];
  links?: QkdLink[];
  configMaps?: ConfigMap[];
  contexts?: AppContext[];
}) {
  const index = new ContextIndex();
  for (const c of o.contexts ?? []) index.upsert(key(c), c);
  return {
    apps: fakeCache(...(o.apps ?? [])),
    hosts: fakeCache(...(o.hosts ?? [readyHost('h1', 'KME_H1'), readyHost('h2', 'KME_H2')])),
    links: fakeCache(
      ...(o.links ?? [activeLink('c-1', 'KME_C', 'KME_H1'), activeLink('c-2', 'KME_C', 'KME_H2')]),
    ),
    index,
    appActions: new AppActions(fakeCache(...(o.configMaps ?? []))),
    placement: { weights: DEFAULT_WEIGHTS, policy: 'best' as const, rng: seededRng(1), maxHops: 3 },
    views: { maxTelemetryAgeMs: 30_000, expectedActivationMs: 100 },
    now: () => t,
  };
}

describe('AppContext decide (fake caches)', () => {
  it('rejects a context whose MecApp does not exist: AppNotFound', () => {
    const intent = decide(world({}), 'ns/x', context('nowhere'));
    expect(intent).to.include({ kind: 'reject', reason: 'AppNotFound' });
  });

  it('rejects a location the app is not offered in: LocationNotOffered', () => {
    const cardio = app('cardio', {
      appInfo: {
        appDId: 'cardio',
        appName: 'cardio',
        appProvider: 'p',
        appSoftVersion: '1',
        appDVersion: '1',
        appDescription: 'd',
        appLocation: [{ countryCode: 'IT' }],
      },
    });
    const c = context('cardio');
    const ctx = { ...c, spec: { ...c.spec, appLocation: { countryCode: 'FR' } } } as AppContext;
    expect(decide(world({ apps: [cardio] }), key(ctx), ctx)).to.include({
      kind: 'reject',
      reason: 'LocationNotOffered',
    });
  });

  it('keeps a context Pending while its code is unavailable (ConfigMap missing)', () => {
    const cardio = app('cardio', {
      action: { codeFrom: { configMapKeyRef: { name: 'code', key: 'main.js' } } },
    });
    const ctx = context('cardio');
    const intent = decide(world({ apps: [cardio] }), key(ctx), ctx);
    expect(intent).to.include({ kind: 'pending', reason: 'CodeUnavailable' });
    const cm: ConfigMap = { metadata: { name: 'code', namespace: 'ns', resourceVersion: '3' }, data: {} };
    expect(decide(world({ apps: [cardio], configMaps: [cm] }), key(ctx), ctx)).to.include({
      kind: 'pending',
      reason: 'CodeUnavailable',
    });
  });

  it('places a new context on a feasible host, in its namespace', () => {
    const ctx = context('cardio');
    const intent = decide(world({ apps: [app('cardio')] }), key(ctx), ctx);
    expect(intent.kind).to.equal('place');
    if (intent.kind !== 'place') return;
    expect(intent.placement.hostKey).to.equal(`ns/${intent.placement.host}`);
    expect(intent).to.not.have.property('replaces');
  });

  it('spreads contexts decided while an earlier placement is still being deployed', () => {
    // Equal hosts: the first context goes to h1 (ties go to the first name). Its status is written
    // only once its action is deployed on h1, which can take seconds; a context decided meanwhile
    // (another worker) must see h1 as taken, or a burst piles onto h1.
    const w = world({ apps: [app('cardio')] });
    const [a, b] = [context('cardio'), context('cardio')];
    const first = decide(w, key(a), a);
    if (first.kind !== 'place') throw new Error(`expected a placement, got ${first.kind}`);
    expect(first.placement.host).to.equal('h1');
    w.index.plan(key(a), plannedUsage(a, first.placement, t));
    const second = decide(w, key(b), b);
    expect(second.kind === 'place' && second.placement.host).to.equal('h2');
    // a placement that failed (its deploy did) no longer counts
    w.index.unplan(key(a));
    const again = decide(w, key(b), b);
    expect(again.kind === 'place' && again.placement.host).to.equal('h1');
  });

  it('replaces the action of an updated app on the same host exactly once', () => {
    const cardio = app('cardio');
    const w = world({ apps: [cardio] });
    const built = w.appActions.of(cardio);
    if (!built.ok) throw new Error('the fixture app must build');
    const old = context('cardio', placed('h2', 'mecqkd-cardio-old', undefined, ['KME_C', 'KME_H2']));
    const first = decide(w, key(old), old);
    expect(first).to.deep.include({ kind: 'place', replaces: 'mecqkd-cardio-old' });
    if (first.kind !== 'place') return;
    expect(first.placement).to.include({ host: 'h2', action: built.action.name });
    // once the new action is recorded, the next pass replaces nothing
    const updated = {
      ...old,
      status: { ...old.status, ...placed('h2', built.action.name, undefined, ['KME_C', 'KME_H2']) },
    };
    const second = decide(w, key(updated), updated as AppContext);
    expect(second.kind).to.equal('place');
    expect(second).to.not.have.property('replaces');
  });

  it('moves a context off a host being deleted, without waiting for the optimiser', () => {
    const gone = readyHost('h1', 'KME_H1', { deletionTimestamp: '2026-02-01T09:59:00Z' });
    const ctx = context('cardio', placed('h1', 'mecqkd-cardio-x'));
    const intent = decide(
      world({ apps: [app('cardio')], hosts: [gone, readyHost('h2', 'KME_H2')] }),
      key(ctx),
      ctx,
    );
    expect(intent).to.deep.include({ kind: 'place' });
    if (intent.kind === 'place') expect(intent.placement.host).to.equal('h2');
  });
});

describe('AppContext decide: a changed appLocation (PUT)', () => {
  const located = (name: string, kmeId: string, countryCode: string) => {
    const h = readyHost(name, kmeId);
    return { ...h, spec: { ...h.spec, location: { countryCode } } } as MecHost;
  };
  const hosts = [located('h1', 'KME_H1', 'IT'), located('h2', 'KME_H2', 'FR')];
  const wanting = (countryCode: string) => {
    const c = context('cardio', placed('h1', 'mecqkd-cardio-x'));
    return { ...c, spec: { ...c.spec, appLocation: { countryCode } } } as AppContext;
  };

  it('moves a context whose host is outside its new location to a host inside it: LocationChanged', () => {
    const ctx = wanting('FR');
    const intent = decide(world({ apps: [app('cardio')], hosts }), key(ctx), ctx);
    expect(intent).to.deep.include({
      kind: 'migrate',
      migration: {
        context: key(ctx),
        from: 'h1',
        to: 'h2',
        reason: 'LocationChanged',
        path: ['KME_C', 'KME_H2'],
      },
    });
  });

  it('keeps a context on its host while the host is in the new location', () => {
    const ctx = wanting('IT');
    const intent = decide(world({ apps: [app('cardio')], hosts }), key(ctx), ctx);
    expect(intent.kind).to.equal('place');
    if (intent.kind === 'place') expect(intent.placement.host).to.equal('h1');
    expect(intent).to.not.have.property('unmet');
  });

  it('keeps serving from where it is and says why when no host is in the new location', () => {
    const ctx = wanting('DE');
    const intent = decide(world({ apps: [app('cardio')], hosts }), key(ctx), ctx);
    expect(intent.kind).to.equal('place');
    if (intent.kind !== 'place') return;
    expect(intent.placement.host).to.equal('h1');
    expect(intent.unmet?.reason).to.be.a('string').and.not.equal('');
    expect(intent.unmet?.message).to.include('DE');
  });
});

describe('AppContext finalize decision (fake caches)', () => {
  it('leaves cleanup to the host when the endpoint of its host is unknown', () => {
    const ctx = context('cardio', placed('vanished', 'mecqkd-cardio-x'));
    expect(decideFinalize(world({}), ctx)).to.deep.equal({ kind: 'leaveToHost', hostKey: 'ns/vanished' });
  });

  it('removes the action if unused when the host is known, and releases an unplaced context', () => {
    const ctx = context('cardio', placed('h1', 'mecqkd-cardio-x'));
    expect(decideFinalize(world({}), ctx)).to.deep.equal({
      kind: 'removeIfUnused',
      hostKey: 'ns/h1',
      action: 'mecqkd-cardio-x',
    });
    expect(decideFinalize(world({}), context('cardio', { phase: 'Pending' }))).to.deep.equal({
      kind: 'release',
    });
  });
});
