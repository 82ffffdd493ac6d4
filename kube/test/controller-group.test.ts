// The leader's work as one unit: a 401/403/404 on a watched resource, or caches that never sync,
// end it (after everything stopped) instead of leaving a leader that renews its Lease and does
// nothing; a stop ends loops, controllers and informers in order.
import { sharedControlPlane } from '@mecqkd/localenv/shared';
import { expect } from 'chai';
import { Controller } from '../src/controller.ts';
import { ControllerGroup } from '../src/controller-group.ts';
import { Informer } from '../src/informer.ts';
import { createKubeClient, type KubeClient } from '../src/kube-client.ts';
import { collectionPath, objectPath } from '../src/kube-paths.ts';
import type { KubeObject } from '../src/types.ts';
import {
  CuttableProxy,
  clientFor,
  configMap,
  configMaps,
  deleteNamespace,
  eventually,
  freshNamespace,
} from './support.ts';

const quiet = { initialMs: 50, maxMs: 200, resetAfterMs: 60_000 };

describe('runtime/controller-group (real apiserver)', function () {
  this.timeout(60_000);
  let client: KubeClient;
  let ns: string;
  const closing: KubeClient[] = [];

  before(async () => {
    client = await clientFor();
    ns = await freshNamespace(client, 'group');
  });
  after(async () => {
    for (const c of closing.splice(0)) await c.close();
    await deleteNamespace(client, ns);
    await client.close();
  });

  const informer = (name: string, c: KubeClient, path = collectionPath(configMaps, ns)) =>
    new Informer<KubeObject>({ name, client: c, path, backoff: quiet });
  const controllerOf = (i: Informer<KubeObject>, seen: string[]) =>
    new Controller({
      name: `group-${i.name}`,
      informer: i,
      reconciler: async (key) => {
        seen.push(key);
        return undefined;
      },
    }) as unknown as Controller<KubeObject>;

  it('runs until stopped: ready while running, then loops, controllers and informers stop', async () => {
    const cms = informer('running', client);
    const seen: string[] = [];
    let loopStopped = false;
    const group = new ControllerGroup({
      informers: [cms],
      controllers: [controllerOf(cms, seen)],
      loops: (signal) => [
        new Promise<void>((resolve) =>
          signal.addEventListener(
            'abort',
            () => {
              loopStopped = true;
              resolve();
            },
            { once: true },
          ),
        ),
      ],
    });
    const stop = new AbortController();
    const run = group.run(stop.signal);
    await eventually('ready', () => group.ready());
    await client.create(collectionPath(configMaps, ns), configMap(ns, 'seen-by-the-group'));
    await eventually('reconciled', () => seen.includes(`${ns}/seen-by-the-group`));
    stop.abort();
    await run;
    expect(loopStopped).to.equal(true);
    expect(cms.isWatching()).to.equal(false);
    expect(group.ready()).to.equal(false);
  });

  it('an informer answered 403 ends the work: run() rejects naming it, after every informer stopped', async () => {
    const plane = await sharedControlPlane();
    const nobody = await createKubeClient({ kubeconfigPath: await plane.userKubeconfig('nobody') });
    closing.push(nobody);
    const allowed = informer('allowed', client);
    const forbidden = informer('forbidden', nobody);
    const group = new ControllerGroup({
      informers: [allowed, forbidden],
      controllers: [controllerOf(allowed, [])],
    });
    const err = await group.run(new AbortController().signal).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).to.match(/informer forbidden stopped: .*403 Forbidden/);
    expect(forbidden.failure?.status).to.equal(403);
    expect(allowed.isWatching(), 'the allowed informer is stopped too').to.equal(false);
    expect(group.ready()).to.equal(false);
  });

  it('a 404 on a watched resource (its CRD is gone) ends the work too', async () => {
    const missing = informer(
      'missing',
      client,
      collectionPath({ group: 'nope.mecqkd.io', version: 'v1', plural: 'things' }, ns),
    );
    const group = new ControllerGroup({ informers: [missing], controllers: [] });
    const err = await group.run(new AbortController().signal).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).to.match(/informer missing stopped: .*404/);
  });

  it('caches that never sync within the bound end the work', async () => {
    const proxy = await CuttableProxy.start(client.server);
    const plane = await sharedControlPlane();
    const cut = await createKubeClient({ kubeconfigPath: plane.kubeconfigPath, server: proxy.url });
    closing.push(cut);
    proxy.cut(true);
    const unreachable = informer('unreachable', cut);
    const group = new ControllerGroup({
      informers: [unreachable],
      controllers: [],
      cacheSyncTimeoutMs: 1000,
    });
    const err = await group.run(new AbortController().signal).then(
      () => undefined,
      (e: Error) => e,
    );
    await proxy.close();
    expect(err?.message).to.match(/informer unreachable not synced after 1000 ms/);
    expect(unreachable.stats.lists).to.equal(0);
    expect(group.ready()).to.equal(false);
  });

  it('withSignal: aborting cancels in-flight requests and watches and refuses new ones', async () => {
    const scope = new AbortController();
    const scoped = client.withSignal(scope.signal);
    const watching = (async () => {
      try {
        for await (const _ of scoped.watch(collectionPath(configMaps, ns), {
          labelSelector: 'matches=nothing',
          timeoutSeconds: 60,
        })) {
          // bookmarks only: nothing matches
        }
      } catch (err) {
        return err as Error;
      }
      return undefined;
    })();
    await new Promise((r) => setTimeout(r, 300));
    scope.abort();
    const watchErr = await watching;
    expect(watchErr?.message).to.match(/WATCH .* no response/);
    const getErr = await scoped.get(objectPath(configMaps, ns, 'anything')).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(getErr?.message).to.match(/the client scope has ended/);
    await scoped.close(); // a no-op: the parent owns the connections
    const made = await client.create(collectionPath(configMaps, ns), configMap(ns, 'parent-still-works'));
    expect(made.metadata.name).to.equal('parent-still-works');
  });
});
