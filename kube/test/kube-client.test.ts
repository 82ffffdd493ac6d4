import tls from 'node:tls';
import { expect } from 'chai';
import type { KubeClient } from '../src/kube-client.ts';
import { isConflict, KubeApiError } from '../src/kube-errors.ts';
import { collectionPath, objectPath } from '../src/kube-paths.ts';
import type { KubeObject } from '../src/types.ts';
import { clientFor, configMap, configMaps, deleteNamespace, freshNamespace, mecHosts } from './support.ts';

function mecHost(namespace: string, name: string) {
  return {
    apiVersion: 'mecqkd.io/v1alpha1',
    kind: 'MecHost',
    metadata: { name, namespace },
    spec: {
      openwhisk: { apiHost: 'http://127.0.0.1:3233', credentialsSecret: { name: 'ow' } },
      kme: {
        url: 'https://127.0.0.1:8443',
        kmeId: 'KME_A',
        saeId: 'SAE_A',
        credentialsSecret: { name: 'sae' },
      },
      capacity: { memoryMb: 1024 },
    },
  };
}

describe('runtime/kube-client (real apiserver)', function () {
  this.timeout(60_000);
  let client: KubeClient;
  let ns: string;

  before(async () => {
    client = await clientFor();
    ns = await freshNamespace(client, 'client');
  });
  after(async () => {
    await deleteNamespace(client, ns);
    await client.close();
  });

  it('creates, gets, replaces and deletes; a missing object reads as undefined', async () => {
    const col = collectionPath(configMaps, ns);
    const path = objectPath(configMaps, ns, 'one');
    const created = await client.create(col, configMap(ns, 'one', { a: '1' }));
    expect(created.metadata.resourceVersion).to.be.a('string');
    const got = await client.get<ReturnType<typeof configMap>>(path);
    expect(got?.data).to.deep.equal({ a: '1' });
    const replaced = await client.replace<ReturnType<typeof configMap>>(path, { ...got, data: { a: '2' } });
    expect(replaced.data).to.deep.equal({ a: '2' });
    await client.delete(path);
    expect(await client.get(path)).to.equal(undefined);
  });

  it('reports 409 with the request context for a stale resourceVersion', async () => {
    const path = objectPath(configMaps, ns, 'stale');
    const created = await client.create(collectionPath(configMaps, ns), configMap(ns, 'stale'));
    await client.patch(path, 'merge', { data: { x: '1' } });
    const err = await client
      .patch(path, 'merge', {
        metadata: { resourceVersion: created.metadata.resourceVersion },
        data: { x: '2' },
      })
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(KubeApiError);
    expect(isConflict(err)).to.equal(true);
    expect((err as KubeApiError).method).to.equal('PATCH');
    expect((err as KubeApiError).path).to.include('/configmaps/stale');
    const pre = await client
      .delete(path, { preconditions: { resourceVersion: created.metadata.resourceVersion } })
      .catch((e: unknown) => e);
    expect(isConflict(pre)).to.equal(true);
  });

  it('patches by JSON Patch and server-side apply', async () => {
    const path = objectPath(configMaps, ns, 'patched');
    await client.create(collectionPath(configMaps, ns), configMap(ns, 'patched', { a: '1' }));
    const json = await client.patch<ReturnType<typeof configMap>>(path, 'json', [
      { op: 'add', path: '/data/b', value: '2' },
    ]);
    expect(json.data).to.deep.equal({ a: '1', b: '2' });
    const applied = await client.patch<ReturnType<typeof configMap>>(
      path,
      'apply',
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'patched', namespace: ns }, data: { c: '3' } },
      { fieldManager: 'runtime-test', force: true },
    );
    expect(applied.data).to.include({ c: '3' });
    await client.patch(path, 'apply', {}, {}).then(
      () => expect.fail('apply without a field manager must be refused'),
      (e: Error) => expect(e.message).to.include('fieldManager'),
    );
  });

  it('writes the status subresource of a custom resource', async () => {
    const path = objectPath(mecHosts, ns, 'host-a');
    await client.create(collectionPath(mecHosts, ns), mecHost(ns, 'host-a'));
    const patched = await client.patchStatus<{ metadata: { name: string }; status?: { load?: number } }>(
      path,
      'merge',
      { status: { load: 0.25 } },
    );
    expect(patched.status?.load).to.equal(0.25);
    // The main resource ignores status: only /status writes it.
    await client.patch(path, 'merge', { status: { load: 0.75 } });
    const again = await client.get<{ metadata: { name: string }; status?: { load?: number } }>(path);
    expect(again?.status?.load).to.equal(0.25);
  });

  it('replaces the status alone, guarded by the resourceVersion, keeping all else and its owners', async () => {
    type Host = ReturnType<typeof mecHost> & {
      metadata: KubeObject['metadata'] & { managedFields?: { manager: string; subresource?: string }[] };
      status?: { load?: number; contextCount?: number };
    };
    const path = objectPath(mecHosts, ns, 'host-put');
    const body = mecHost(ns, 'host-put');
    const created = await client.create<Host>(
      collectionPath(mecHosts, ns),
      {
        ...body,
        metadata: { ...body.metadata, labels: { a: 'b' }, annotations: { c: 'd' }, finalizers: ['x.io/f'] },
      },
      { fieldManager: 'spec-writer' },
    );
    const first = await client.replaceStatus<Host>(
      path,
      { ...created, status: { load: 0.5, contextCount: 3 } },
      { fieldManager: 'status-writer' },
    );
    expect(first.status).to.deep.equal({ load: 0.5, contextCount: 3 });
    expect(first.metadata.labels).to.deep.equal({ a: 'b' });
    expect(first.metadata.annotations).to.deep.equal({ c: 'd' });
    expect(first.metadata.finalizers).to.deep.equal(['x.io/f']);
    expect(first.spec).to.deep.equal(created.spec);
    expect(first.metadata.managedFields?.map((m) => [m.manager, m.subresource])).to.deep.equal([
      ['spec-writer', undefined],
      ['status-writer', 'status'],
    ]);
    // the whole status is replaced: a field left out is gone
    const second = await client.replaceStatus<Host>(path, { ...first, status: { load: 0.25 } });
    expect(second.status).to.deep.equal({ load: 0.25 });
    const stale = await client
      .replaceStatus(path, { ...first, status: { load: 1 } })
      .catch((e: unknown) => e);
    expect(isConflict(stale)).to.equal(true);
    expect((stale as KubeApiError).method).to.equal('PUT');
    expect((await client.get<Host>(path))?.status).to.deep.equal({ load: 0.25 });
  });

  it('lists across pages and returns the list resourceVersion', async () => {
    const col = collectionPath(configMaps, ns);
    for (let i = 0; i < 7; i++) await client.create(col, configMap(ns, `page-${i}`));
    const listed = await client.list(col, { pageSize: 3, labelSelector: '' });
    expect(listed.items.map((o) => o.metadata.name).filter((n) => n.startsWith('page-'))).to.have.length(7);
    expect(Number(listed.resourceVersion)).to.be.greaterThan(0);
  });

  it('opens every connection of its pools with one TLS context, parsed once', async () => {
    const contexts: unknown[] = [];
    const connect = tls.connect;
    // undici opens its connections through the node:tls module object
    tls.connect = ((...args: Parameters<typeof tls.connect>) => {
      contexts.push((args[0] as tls.ConnectionOptions).secureContext);
      return connect(...args);
    }) as typeof tls.connect;
    const fresh = await clientFor({ connections: 4 });
    try {
      // four requests at once need four connections of the request pool
      await Promise.all(Array.from({ length: 4 }, () => fresh.get(objectPath(configMaps, ns, 'none'))));
      const watch = new AbortController();
      const events = fresh.watch(collectionPath(configMaps, ns), { signal: watch.signal });
      const first = events.next();
      await client.create(collectionPath(configMaps, ns), configMap(ns, 'tls-context'));
      await first;
      watch.abort();
      await events.return(undefined);
    } finally {
      tls.connect = connect;
      await fresh.close();
    }
    expect(contexts.length).to.be.at.least(2);
    // a SecureContext (its native handle), not PEMs for Node to parse per connection
    expect(contexts[0]).to.have.property('context');
    expect(new Set(contexts).size).to.equal(1);
  });
});
