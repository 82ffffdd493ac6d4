import { expect } from 'chai';
import { EventRecorder } from '../src/events.ts';
import { addFinalizer, removeFinalizer } from '../src/finalizers.ts';
import type { KubeClient } from '../src/kube-client.ts';
import { isConflict } from '../src/kube-errors.ts';
import { collectionPath, objectPath } from '../src/kube-paths.ts';
import { registry } from '../src/metrics.ts';
import type { KubeObject } from '../src/types.ts';
import { clientFor, configMap, configMaps, deleteNamespace, freshNamespace } from './support.ts';

const EVENTS = { group: 'events.k8s.io', version: 'v1', plural: 'events' };
type Ev = KubeObject & {
  reason?: string;
  note?: string;
  eventTime?: string;
  series?: { count: number };
  regarding?: { name?: string; uid?: string };
};

describe('runtime/events and finalizers (real apiserver)', function () {
  this.timeout(60_000);
  let client: KubeClient;
  let ns: string;

  before(async () => {
    client = await clientFor();
    ns = await freshNamespace(client, 'evfin');
  });
  after(async () => {
    await deleteNamespace(client, ns);
    await client.close();
  });

  it('aggregates a hot loop into one Event series with a MicroTime eventTime', async () => {
    const subject = await client.create(collectionPath(configMaps, ns), configMap(ns, 'hot'));
    const recorder = new EventRecorder({
      client,
      reportingController: 'mecqkd.io/runtime-test',
      reportingInstance: 'test-0',
      seriesFlushMs: 100,
    });
    for (let i = 0; i < 200; i++) {
      recorder.record(subject, {
        type: 'Warning',
        reason: 'ProbeFailed',
        action: 'Probe',
        note: 'host down',
      });
    }
    recorder.record(subject, { type: 'Normal', reason: 'Placed', action: 'Place', note: 'on host-1' });
    await new Promise((r) => setTimeout(r, 300));
    await recorder.flush();
    const { items } = await client.list<Ev>(collectionPath(EVENTS, ns));
    const mine = items.filter((e) => e.regarding?.uid === subject.metadata.uid);
    expect(mine).to.have.length(2);
    const hot = mine.find((e) => e.reason === 'ProbeFailed')!;
    expect(hot.series?.count).to.equal(200);
    expect(hot.eventTime).to.match(/\.\d{6}Z$/);
    expect(mine.find((e) => e.reason === 'Placed')?.note).to.equal('on host-1');
  });

  it('drops new Events beyond the per-object burst', async () => {
    const subject = await client.create(collectionPath(configMaps, ns), configMap(ns, 'spammy'));
    const controller = 'mecqkd.io/runtime-spam-test';
    const recorder = new EventRecorder({
      client,
      reportingController: controller,
      reportingInstance: 't',
      spamBurst: 5,
    });
    for (let i = 0; i < 8; i++)
      recorder.record(subject, { type: 'Normal', reason: `Step${i}`, action: 'Step' });
    await recorder.flush();
    const { items } = await client.list<Ev>(collectionPath(EVENTS, ns));
    expect(items.filter((e) => e.regarding?.uid === subject.metadata.uid)).to.have.length(5);
    expect(await registry.metrics()).to.include(`mecqkd_events_dropped_total{controller="${controller}"} 3`);
  });

  it('adds and removes only its own finalizer, and a stale copy gets 409', async () => {
    const path = objectPath(configMaps, ns, 'guarded');
    const created = await client.create(collectionPath(configMaps, ns), {
      ...configMap(ns, 'guarded'),
      metadata: { name: 'guarded', namespace: ns, finalizers: ['other.io/keep'] },
    });
    const added = await addFinalizer(client, path, created, 'mecqkd.io/cleanup');
    expect(added?.metadata.finalizers).to.deep.equal(['other.io/keep', 'mecqkd.io/cleanup']);
    expect(await addFinalizer(client, path, added!, 'mecqkd.io/cleanup')).to.equal(undefined);
    const stale = await removeFinalizer(
      client,
      path,
      { ...added!, metadata: { ...added!.metadata, resourceVersion: created.metadata.resourceVersion } },
      'mecqkd.io/cleanup',
    ).catch((e: unknown) => e);
    expect(isConflict(stale)).to.equal(true);
    const removed = await removeFinalizer(client, path, added!, 'mecqkd.io/cleanup');
    expect(removed?.metadata.finalizers).to.deep.equal(['other.io/keep']);
    await client.patch(path, 'merge', { metadata: { finalizers: null } });
  });
});
