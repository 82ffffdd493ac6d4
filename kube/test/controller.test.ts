import { Writable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect } from 'chai';
import winston from 'winston';
import { Controller } from '../src/controller.ts';
import { Informer } from '../src/informer.ts';
import type { KubeClient } from '../src/kube-client.ts';
import { collectionPath, objectPath } from '../src/kube-paths.ts';
import { registry } from '../src/metrics.ts';
import type { KubeObject, ReconcileResult } from '../src/types.ts';
import { clientFor, configMap, configMaps, deleteNamespace, eventually, freshNamespace } from './support.ts';

type Cm = KubeObject & { data?: Record<string, string> };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('runtime/controller (real apiserver)', function () {
  this.timeout(60_000);
  let client: KubeClient;
  let ns: string;
  const cleanup: (() => Promise<void>)[] = [];

  before(async () => {
    client = await clientFor();
    ns = await freshNamespace(client, 'ctrl');
  });
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });
  after(async () => {
    await deleteNamespace(client, ns);
    await client.close();
  });

  async function run(
    name: string,
    labelSelector: string,
    reconciler: (key: string, cache: Informer<Cm>) => Promise<ReconcileResult | undefined>,
    workers = 4,
  ) {
    const informer = new Informer<Cm>({ name, client, path: collectionPath(configMaps, ns), labelSelector });
    const controller = new Controller({
      name,
      informer,
      workers,
      reconciler: (key) => reconciler(key, informer),
      queue: { baseDelayMs: 20, maxDelayMs: 1000 },
    });
    informer.start();
    await controller.start();
    cleanup.push(
      () => informer.stop(),
      () => controller.stop(),
    );
    return { informer, controller };
  }

  it('never reconciles one key twice at once and ends on the latest state', async () => {
    const inFlight = new Set<string>();
    const overlaps: string[] = [];
    const lastSeen = new Map<string, string | undefined>();
    await run('serial', 'suite=serial', async (key, cache) => {
      if (inFlight.has(key)) overlaps.push(key);
      inFlight.add(key);
      await sleep(30);
      lastSeen.set(key, cache.get(key)?.data?.v);
      inFlight.delete(key);
      return undefined;
    });
    const col = collectionPath(configMaps, ns);
    const names = ['s0', 's1', 's2', 's3', 's4'];
    await Promise.all(
      names.map((n) =>
        client.create(col, {
          ...configMap(ns, n, { v: '0' }),
          metadata: { name: n, namespace: ns, labels: { suite: 'serial' } },
        }),
      ),
    );
    for (let v = 1; v <= 5; v++) {
      await Promise.all(
        names.map((n) => client.patch(objectPath(configMaps, ns, n), 'merge', { data: { v: String(v) } })),
      );
    }
    await eventually('every key reconciled at its last state', () =>
      names.every((n) => lastSeen.get(`${ns}/${n}`) === '5'),
    );
    expect(overlaps).to.deep.equal([]);
  });

  it('retries a failing key with growing backoff, then forgets it on success', async () => {
    const attempts: number[] = [];
    const { controller } = await run(
      'retry',
      'suite=retry',
      async () => {
        attempts.push(performance.now());
        if (attempts.length <= 4) throw new Error('transient failure');
        return undefined;
      },
      1,
    );
    await client.create(collectionPath(configMaps, ns), {
      ...configMap(ns, 'flaky'),
      metadata: { name: 'flaky', namespace: ns, labels: { suite: 'retry' } },
    });
    await eventually('success after 4 failures', () => attempts.length === 5);
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
    // 20, 40, 80, 160 ms: each at least its backoff, and growing.
    for (const [i, g] of gaps.entries()) expect(g).to.be.at.least(20 * 2 ** i - 2);
    expect(gaps[3]!).to.be.greaterThan(gaps[0]! * 3);
    await eventually('forgotten', () => controller.queue.numRequeues(`${ns}/flaky`) === 0);
    const text = await registry.metrics();
    expect(text).to.include('controller_runtime_reconcile_total{controller="retry",result="error"} 4');
    expect(text).to.include('controller_runtime_reconcile_total{controller="retry",result="success"} 1');
    expect(text).to.include('controller_runtime_reconcile_errors_total{controller="retry"} 4');
    expect(text).to.include('controller_runtime_max_concurrent_reconciles{controller="retry"} 1');
  });

  it('logs a reconcile cut short by the end of its client scope as cancelled, not as an error', async () => {
    const lines: { level: string; message: string }[] = [];
    const logger = winston.createLogger({
      level: 'debug',
      format: winston.format.json(),
      transports: [
        new winston.transports.Stream({
          stream: new Writable({
            write(chunk, _enc, done) {
              lines.push(JSON.parse(String(chunk)));
              done();
            },
          }),
        }),
      ],
    });
    const scope = new AbortController();
    const scoped = client.withSignal(scope.signal);
    let attempts = 0;
    const informer = new Informer<Cm>({
      name: 'cancel',
      client,
      path: collectionPath(configMaps, ns),
      labelSelector: 'suite=cancel',
    });
    const controller = new Controller({
      name: 'cancel',
      informer,
      logger,
      reconciler: async (key) => {
        attempts++;
        scope.abort();
        await scoped.get(objectPath(configMaps, ns, key.split('/')[1]!));
        return undefined;
      },
      queue: { baseDelayMs: 20, maxDelayMs: 100 },
    });
    informer.start();
    await controller.start();
    cleanup.push(
      () => informer.stop(),
      () => controller.stop(),
    );
    await client.create(collectionPath(configMaps, ns), {
      ...configMap(ns, 'cut'),
      metadata: { name: 'cut', namespace: ns, labels: { suite: 'cancel' } },
    });
    await eventually(
      'reconciled',
      () => attempts > 0 && lines.some((l) => l.message.startsWith('Reconcile')),
    );
    expect(lines.filter((l) => l.level === 'error')).to.deep.equal([]);
    expect(lines.find((l) => l.message === 'Reconcile cancelled')).to.include({ level: 'info' });
    const text = await registry.metrics();
    expect(text).to.include('controller_runtime_reconcile_total{controller="cancel",result="cancelled"} ');
    expect(text).to.not.match(/controller_runtime_reconcile_errors_total\{controller="cancel"\} [1-9]/);
  });

  it('requeues after the asked delay, maps secondary objects to keys, and stops gracefully', async () => {
    const times: number[] = [];
    let finishedSlow = false;
    const { controller } = await run(
      'after',
      'suite=after',
      async (key) => {
        if (key.endsWith('/slow')) {
          await sleep(300);
          finishedSlow = true;
          return undefined;
        }
        times.push(performance.now());
        return times.length === 1 ? { requeueAfterMs: 200 } : undefined;
      },
      2,
    );
    const col = collectionPath(configMaps, ns);
    await client.create(col, {
      ...configMap(ns, 'later'),
      metadata: { name: 'later', namespace: ns, labels: { suite: 'after' } },
    });
    await eventually('reconciled twice', () => times.length >= 2);
    expect(times[1]! - times[0]!).to.be.at.least(195);

    const secondary = new Informer<Cm>({
      name: 'after-secondary',
      client,
      path: col,
      labelSelector: 'suite=secondary',
    });
    // watches() must precede start(): a second controller over the same primary shows the mapping.
    const other = new Controller({
      name: 'after-mapped',
      informer: new Informer<Cm>({ name: 'after-primary', client, path: col, labelSelector: 'suite=none' }),
      reconciler: async () => undefined,
    }).watches(secondary, (o) => [`${ns}/owner-of-${o.metadata.name}`]);
    secondary.start();
    await client.create(col, {
      ...configMap(ns, 'child'),
      metadata: { name: 'child', namespace: ns, labels: { suite: 'secondary' } },
    });
    await eventually('secondary cached', () => secondary.get(`${ns}/child`));
    expect(other.queue.len()).to.equal(1);
    expect(await other.queue.get()).to.equal(`${ns}/owner-of-child`);
    other.queue.shutDown();
    await secondary.stop();

    await client.create(col, {
      ...configMap(ns, 'slow'),
      metadata: { name: 'slow', namespace: ns, labels: { suite: 'after' } },
    });
    await sleep(100);
    await controller.stop();
    expect(finishedSlow).to.equal(true);
  });

  it('lets go of a stopped controller: a new one per leadership term over long-lived informers leaks nothing', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const col = collectionPath(configMaps, ns);
    const primary = new Informer<Cm>({ name: 'terms', client, path: col, labelSelector: 'suite=terms' });
    const secondary = new Informer<Cm>({
      name: 'terms-2',
      client,
      path: col,
      labelSelector: 'suite=terms-2',
    });
    primary.start();
    secondary.start();
    cleanup.push(
      () => primary.stop(),
      () => secondary.stop(),
    );
    const reconciled: string[] = [];
    const terms: WeakRef<Controller<Cm>>[] = [];
    const term = async (n: number) => {
      const controller = new Controller<Cm>({
        name: `term-${n}`,
        informer: primary,
        reconciler: async (key) => {
          reconciled.push(`${n} ${key}`);
          return undefined;
        },
      }).watches(secondary, (o) => [`${ns}/${o.metadata.name}`]);
      await controller.start();
      await client.create(col, {
        ...configMap(ns, `term-${n}`),
        metadata: { name: `term-${n}`, namespace: ns, labels: { suite: 'terms' } },
      });
      await eventually(`term ${n} reconciled its object`, () => reconciled.includes(`${n} ${ns}/term-${n}`));
      await controller.stop();
      terms.push(new WeakRef(controller));
    };
    for (let n = 0; n < 3; n++) await term(n);
    // the informers go on delivering: a stopped controller must not be what they deliver to
    await client.create(col, {
      ...configMap(ns, 'after-terms'),
      metadata: { name: 'after-terms', namespace: ns, labels: { suite: 'terms-2' } },
    });
    await eventually('secondary cached', () => secondary.get(`${ns}/after-terms`));
    await new Promise((r) => setImmediate(r));
    gc();
    expect(terms.map((t) => t.deref() === undefined)).to.deep.equal([true, true, true]);
    expect(reconciled.filter((r) => r.endsWith('after-terms'))).to.deep.equal([]);
  });
});
