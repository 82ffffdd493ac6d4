import { expect } from 'chai';
import { Backoff } from '../src/backoff.ts';
import { collectionPath, objectKey, objectPath, resourceType, splitKey } from '../src/kube-paths.ts';
import { formatMicroTime, microTimeNow } from '../src/microtime.ts';

describe('runtime/kube-paths, microtime, backoff', () => {
  it('builds core and group paths, with subresources', () => {
    expect(collectionPath({ group: '', version: 'v1', plural: 'configmaps' }, 'ns')).to.equal(
      '/api/v1/namespaces/ns/configmaps',
    );
    const hosts = resourceType('mecqkd.io/v1alpha1', 'mechosts');
    expect(collectionPath(hosts)).to.equal('/apis/mecqkd.io/v1alpha1/mechosts');
    expect(objectPath(hosts, 'ns', 'h1', 'status')).to.equal(
      '/apis/mecqkd.io/v1alpha1/namespaces/ns/mechosts/h1/status',
    );
    expect(() => objectPath(hosts, 'ns', 'a/b')).to.throw(/invalid name/);
  });

  it('keys objects like client-go', () => {
    expect(objectKey({ metadata: { name: 'a', namespace: 'n' } })).to.equal('n/a');
    expect(objectKey({ metadata: { name: 'a' } })).to.equal('a');
    expect(splitKey('n/a')).to.deep.equal({ namespace: 'n', name: 'a' });
    expect(splitKey('a')).to.deep.equal({ name: 'a' });
  });

  it('prints MicroTime with exactly six fractional digits', () => {
    expect(formatMicroTime(1_767_225_600_123_456)).to.equal('2026-01-01T00:00:00.123456Z');
    expect(formatMicroTime(1_767_225_600_000_007)).to.equal('2026-01-01T00:00:00.000007Z');
    expect(microTimeNow()).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });

  it('backs off exponentially with jitter up to the cap, and resets after a healthy run', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 400, jitter: 1, resetAfterMs: 1000 }, () => 0.5);
    expect([b.next(), b.next(), b.next(), b.next()]).to.deep.equal([150, 300, 600, 600]);
    expect(b.next(1000)).to.equal(150);
  });
});
