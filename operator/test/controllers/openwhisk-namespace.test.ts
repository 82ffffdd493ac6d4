// A MecHost may name OpenWhisk's `_` namespace alias (the CRD default): the REST API accepts it, but
// web action URLs do not (OpenWhisk looks `_` up as a namespace of that name and answers 404). So
// the referenceURI names the namespace the host's key resolves to, recorded by the host probe.
import { expect } from 'chai';
import { placementOf } from '../../src/controllers/appcontext.ts';
import { mecHostStatus } from '../../src/controllers/mechost.ts';
import { openwhiskNamespaceOf, resolveNamespace } from '../../src/openwhisk/namespace.ts';
import { host } from './fixtures.ts';

describe('OpenWhisk namespace of a MecHost (web action URLs know no "_")', () => {
  it('puts the resolved namespace, not "_", into the referenceURI', () => {
    const h = host('h1', 'KME_1', { openwhiskNamespace: 'guest' });
    expect(h.spec.openwhisk.namespace).to.equal('_');
    expect(placementOf(h, 'mecqkd-a-1', ['KME_1']).referenceURI).to.equal(
      'http://127.0.0.1:1/h1/api/v1/web/guest/default/mecqkd-a-1.json',
    );
  });

  it('an explicit namespace is used as it is; "_" only once resolved', () => {
    const explicit = host('h1', 'KME_1', { openwhiskNamespace: 'other' });
    explicit.spec.openwhisk.namespace = 'tenant-a';
    expect(openwhiskNamespaceOf(explicit)).to.equal('tenant-a');
    expect(openwhiskNamespaceOf(host('h1', 'KME_1', { openwhiskNamespace: 'guest' }))).to.equal('guest');
    expect(openwhiskNamespaceOf(host('h1', 'KME_1'))).to.equal(undefined);
  });

  it('resolves "_" from GET /api/v1/namespaces, which must name exactly one namespace', () => {
    expect(resolveNamespace('_', ['guest'])).to.deep.equal({ ok: true, namespace: 'guest' });
    expect(resolveNamespace('tenant-a', ['guest'])).to.deep.equal({ ok: true, namespace: 'tenant-a' });
    const none = resolveNamespace('_', []);
    expect(none.ok).to.equal(false);
    expect(!none.ok && none.message).to.match(/no namespace/);
    const two = resolveNamespace('_', ['a', 'b']);
    expect(!two.ok && two.message).to.match(/a, b/);
  });

  it('the host status records the resolved namespace, and keeps it while the probe fails', () => {
    const h = host('h1', 'KME_1');
    const observed = {
      ready: { ok: true, reason: 'HostReady', message: 'ok' },
      sample: undefined,
      keyAvailability: undefined,
      contextCount: 0,
      deployedActions: [],
      openwhiskNamespace: 'guest',
    };
    const status = mecHostStatus(h, observed, Date.now(), 60_000);
    expect(status.openwhiskNamespace).to.equal('guest');
    const later = host('h1', 'KME_1', status);
    const failing = { ...observed, ready: { ok: false, reason: 'OpenWhiskUnreachable', message: 'x' } };
    delete (failing as { openwhiskNamespace?: string }).openwhiskNamespace;
    expect(mecHostStatus(later, failing, Date.now(), 60_000).openwhiskNamespace).to.equal('guest');
  });
});
