import { expect } from 'chai';
import { Informer } from '../src/informer.ts';
import type { KubeClient } from '../src/kube-client.ts';
import { collectionPath, objectPath, type ResourceType } from '../src/kube-paths.ts';
import type { KubeObject } from '../src/types.ts';
import {
  CuttableProxy,
  clientFor,
  compactEtcd,
  configMap,
  configMaps,
  deleteNamespace,
  eventually,
  freshNamespace,
} from './support.ts';

// core/v1 Events: the apiserver serves their watches from etcd, not from its watch cache, so an etcd
// compaction really expires an older resourceVersion.
const coreEvents: ResourceType = { group: '', version: 'v1', plural: 'events' };
const coreEvent = (namespace: string, name: string, message: string) => ({
  apiVersion: 'v1',
  kind: 'Event',
  metadata: { name, namespace },
  involvedObject: { kind: 'ConfigMap', name: 'subject', namespace },
  reason: 'Testing',
  message,
});

type Recorded = { type: string; name: string; rv?: string };
function record(informer: Informer<KubeObject>): Recorded[] {
  const seen: Recorded[] = [];
  const push = (type: string) => (o: KubeObject) =>
    seen.push({ type, name: o.metadata.name, rv: o.metadata.resourceVersion });
  informer.on('add', push('add'));
  informer.on('update', (_old, o) => push('update')(o));
  informer.on('delete', push('delete'));
  return seen;
}

const fastBackoff = { initialMs: 50, maxMs: 200, resetAfterMs: 60_000 };

describe('runtime/informer (real apiserver)', function () {
  this.timeout(60_000);
  let direct: KubeClient;
  let proxy: CuttableProxy;
  let proxied: KubeClient;
  let ns: string;
  const informers: Informer<KubeObject>[] = [];

  before(async () => {
    direct = await clientFor();
    ns = await freshNamespace(direct, 'informer');
    proxy = await CuttableProxy.start(direct.server);
    proxied = await clientFor({ server: proxy.url });
  });
  afterEach(async () => {
    for (const i of informers.splice(0)) await i.stop();
  });
  after(async () => {
    await proxied.close();
    await proxy.close();
    await deleteNamespace(direct, ns);
    await direct.close();
  });

  const start = (name: string, client: KubeClient, type: ResourceType) => {
    const informer = new Informer<KubeObject>({
      name: `${name}-${ns}`,
      client,
      path: collectionPath(type, ns),
      backoff: fastBackoff,
      pageSize: 2,
    });
    informers.push(informer);
    return informer;
  };

  it('lists, then follows adds, updates and deletes', async () => {
    const col = collectionPath(configMaps, ns);
    await direct.create(col, configMap(ns, 'pre-1'));
    await direct.create(col, configMap(ns, 'pre-2'));
    await direct.create(col, configMap(ns, 'pre-3'));
    const informer = start('crud', direct, configMaps);
    const seen = record(informer);
    informer.start();
    await informer.waitForSync(10_000);
    expect(informer.hasSynced()).to.equal(true);
    expect(informer.get(`${ns}/pre-1`)).to.not.equal(undefined);
    expect(seen.filter((e) => e.type === 'add').map((e) => e.name)).to.include.members([
      'pre-1',
      'pre-2',
      'pre-3',
    ]);

    await direct.create(col, configMap(ns, 'live'));
    await direct.patch(objectPath(configMaps, ns, 'live'), 'merge', { data: { v: '2' } });
    await direct.delete(objectPath(configMaps, ns, 'pre-2'));
    await eventually('live updated and pre-2 deleted', () => {
      const live = informer.get(`${ns}/live`) as { data?: Record<string, string> } | undefined;
      return live?.data?.v === '2' && informer.get(`${ns}/pre-2`) === undefined;
    });
    expect(seen.map((e) => `${e.type}:${e.name}`)).to.include.members([
      'add:live',
      'update:live',
      'delete:pre-2',
    ]);
    expect(informer.list(ns).map((o) => o.metadata.name)).to.not.include('pre-2');
    expect(informer.stats).to.include({ lists: 1, watches: 1, errors: 0 });
  });

  it('reconnects after the connection is cut and misses no update; one watch per attempt', async () => {
    const col = collectionPath(configMaps, ns);
    await direct.create(col, configMap(ns, 'cut', { v: '0' }));
    const informer = start('cut', proxied, configMaps);
    informer.start();
    await informer.waitForSync(10_000);
    await eventually('watching', () => informer.isWatching());

    proxy.cut(true);
    await direct.patch(objectPath(configMaps, ns, 'cut'), 'merge', { data: { v: '1' } });
    await direct.create(col, configMap(ns, 'cut-new'));
    await eventually('a failed reconnect', () => informer.stats.errors >= 2);
    proxy.resume();

    await eventually('the update made while cut', () => {
      const o = informer.get(`${ns}/cut`) as { data?: Record<string, string> } | undefined;
      return o?.data?.v === '1' && informer.get(`${ns}/cut-new`) !== undefined;
    });
    await eventually('watching again', () => informer.isWatching());
    const { watches, errors, lists, expired } = informer.stats;
    // Every watch request but the live one ended in an error: no duplicate or leaked watch.
    expect(watches).to.equal(errors + expired + 1);
    expect(lists).to.equal(1 + expired);
  });

  it('relists after 410 Gone and converges with deletes and updates', async () => {
    const col = collectionPath(coreEvents, ns);
    for (const n of ['ev-keep', 'ev-change', 'ev-gone']) await direct.create(col, coreEvent(ns, n, 'v0'));
    const informer = start('gone', proxied, coreEvents);
    const seen = record(informer);
    informer.start();
    await informer.waitForSync(10_000);
    await eventually('watching', () => informer.isWatching());
    const changeRv = informer.get(`${ns}/ev-change`)?.metadata.resourceVersion;

    proxy.cut(true);
    await direct.patch(objectPath(coreEvents, ns, 'ev-change'), 'merge', { message: 'v1' });
    await direct.delete(objectPath(coreEvents, ns, 'ev-gone'));
    await direct.create(col, coreEvent(ns, 'ev-new', 'v0'));
    await compactEtcd();
    proxy.resume();

    await eventually('relisted state', () => {
      const changed = informer.get(`${ns}/ev-change`) as { message?: string } | undefined;
      return (
        changed?.message === 'v1' &&
        informer.get(`${ns}/ev-gone`) === undefined &&
        informer.get(`${ns}/ev-new`) !== undefined
      );
    });
    expect(informer.stats.expired).to.be.at.least(1);
    expect(informer.stats.lists).to.equal(1 + informer.stats.expired);
    const after = seen.slice(3).map((e) => `${e.type}:${e.name}`);
    expect(after).to.include.members(['update:ev-change', 'delete:ev-gone', 'add:ev-new']);
    expect(after).to.not.include('update:ev-keep');
    expect(informer.get(`${ns}/ev-change`)?.metadata.resourceVersion).to.not.equal(changeRv);
    await eventually('watching after relist', () => informer.isWatching());
  });

  it('stop() is final: no handler runs and no watch opens afterwards', async () => {
    const informer = start('stop', direct, configMaps);
    const seen = record(informer);
    informer.start();
    await informer.waitForSync(10_000);
    await informer.stop();
    const watches = informer.stats.watches;
    const before = seen.length;
    await direct.create(collectionPath(configMaps, ns), configMap(ns, 'after-stop'));
    await new Promise((r) => setTimeout(r, 300));
    expect(seen.length).to.equal(before);
    expect(informer.stats.watches).to.equal(watches);
    expect(() => informer.start()).to.throw(/stopped/);
  });
});
