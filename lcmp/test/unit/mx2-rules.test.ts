// The pure Mx2 rules: app_list filter semantics and what a PUT may change.
import type { AppContext, MecApp } from '@mecqkd/crds';
import { expect } from 'chai';
import type { ClientRegistration } from '../../src/auth/registry.ts';
import { applicationList, findApp } from '../../src/mx2/catalog.ts';
import { APP_INFO_ANNOTATION, decideUpdate } from '../../src/mx2/contexts.ts';
import { appContext, appListQuery } from '../../src/mx2/schemas.ts';

const app = (name: string, version: string, serviceCont?: number): MecApp => ({
  apiVersion: 'mecqkd.io/v1alpha1',
  kind: 'MecApp',
  metadata: { name, namespace: 'ns' },
  spec: {
    appInfo: {
      appDId: `did-${name}`,
      appName: name,
      appProvider: 'p',
      appSoftVersion: version,
      appDVersion: '1',
      appDescription: '',
      ...(serviceCont === undefined ? {} : { appCharcs: { serviceCont } }),
    },
    action: {
      kind: 'nodejs:20',
      code: 'x',
      main: 'main',
      limits: { timeoutMs: 1000, memoryMb: 128, concurrency: 1 },
    },
    placement: {
      maxLoad: 1,
      minKeyAvailability: 0,
      expectedInvocationsPerSecond: 1,
      invocationsPerKey: 1,
      keySizeBits: 256,
    },
  },
});
const everyone: ClientRegistration = { clientId: 'c', devAppIds: '*', apps: '*', kmeId: 'K', saeId: 'S' };
const apps = [app('a', '1', 1), app('b', '2', 0), app('c', '2')];
const listed = (q: Record<string, unknown>, client = everyone) =>
  applicationList(apps, client, appListQuery.parse(q), 'mecqkd').appList.map((x) => x.appInfo.appName);

describe('Mx2 rules', () => {
  it('app_list: OR within a parameter (both spellings), AND across parameters', () => {
    expect(listed({ appName: ['a', 'b'] })).to.deep.equal(['a', 'b']);
    expect(listed({ appName: 'a,b' })).to.deep.equal(['a', 'b']);
    expect(listed({ appName: 'a,b', appSoftVersion: '2' })).to.deep.equal(['b']);
    expect(listed({ serviceCont: '0' })).to.deep.equal(['b']);
    expect(listed({})).to.deep.equal(['a', 'b', 'c']);
    expect(listed({}, { ...everyone, apps: ['c'] })).to.deep.equal(['c']);
    expect(appListQuery.safeParse({ app: 'a' }).success).to.be.false;
  });

  it('finds an app by appDId only when name and provider agree', () => {
    const ref = { appName: 'a', appProvider: 'p', appDVersion: '1' };
    expect(findApp(apps, everyone, { ...ref, appDId: 'did-a' })?.metadata.name).to.equal('a');
    expect(findApp(apps, everyone, { ...ref, appDId: 'did-b' })).to.be.undefined;
    expect(findApp(apps, { ...everyone, apps: ['b'] }, ref)).to.be.undefined;
  });

  it('PUT changes only callbackReference and appLocation', () => {
    const body = appContext.parse({
      associateDevAppId: 'd',
      callbackReference: 'http://x.example/cb',
      appInfo: {
        appName: 'a',
        appProvider: 'p',
        appDVersion: '1',
        userAppInstanceInfo: [{ appLocation: { countryCode: 'IT' } }],
      },
    });
    const ctx = {
      metadata: {
        name: 'x',
        annotations: {
          [APP_INFO_ANNOTATION]: JSON.stringify({ appName: 'a', appProvider: 'p', appDVersion: '1' }),
        },
      },
      spec: {
        appName: 'a',
        associateDevAppId: 'd',
        appLocationUpdates: false,
        appAutoInstantiation: false,
        client: { kmeId: 'K', saeId: 'S' },
      },
    } as unknown as AppContext;
    expect(decideUpdate(body, ctx)).to.deep.equal({
      ok: true,
      spec: { callbackReference: 'http://x.example/cb', appLocation: { countryCode: 'IT' } },
    });
    const renamed = { ...body, appInfo: { ...body.appInfo, appName: 'b' } };
    expect(decideUpdate(renamed, ctx)).to.include({ ok: false, field: 'appInfo.appName' });
    expect(decideUpdate({ ...body, associateDevAppId: 'e' }, ctx)).to.include({
      ok: false,
      field: 'associateDevAppId',
    });
    expect(decideUpdate({ ...body, contextId: '1' }, ctx).ok).to.be.true;
  });
});
