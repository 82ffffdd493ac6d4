// The create request's W3C trace travels on the AppContext, for the operator's decision logs.
import { TRACEPARENT_ANNOTATION, traceIdOf } from '@mecqkd/common/trace';
import type { MecApp } from '@mecqkd/crds';
import { expect } from 'chai';
import type { ClientRegistration } from '../../src/auth/registry.ts';
import { contextResource } from '../../src/mx2/contexts.ts';

const client: ClientRegistration = { clientId: 'c', devAppIds: '*', apps: '*', kmeId: 'K', saeId: 'S' };
const app = { metadata: { name: 'cardio' } } as MecApp;
const req = {
  associateDevAppId: 'ward-7',
  appInfo: { appName: 'cardio', appProvider: 'p', appDVersion: '1', userAppInstanceInfo: [{}] },
} as Parameters<typeof contextResource>[0];
const nowhere = () => [];

describe('Mx2 create: the trace annotation', () => {
  it('keeps the traceparent of the request on the AppContext', () => {
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const ctx = contextResource(req, app, client, 'ab'.repeat(16), 'ns', nowhere, tp);
    expect(ctx.metadata.annotations?.[TRACEPARENT_ANNOTATION]).to.equal(tp);
    expect(traceIdOf(ctx)).to.equal('4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it('has no trace annotation without one', () => {
    const ctx = contextResource(req, app, client, 'ab'.repeat(16), 'ns', nowhere);
    expect(ctx.metadata.annotations).to.not.have.property(TRACEPARENT_ANNOTATION);
  });
});
