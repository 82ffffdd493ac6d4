import { expect } from 'chai';
import { registry } from '../src/metrics.ts';
import { WorkQueue } from '../src/workqueue.ts';

let n = 0;
const queue = (opts: Partial<ConstructorParameters<typeof WorkQueue>[0]> = {}) =>
  new WorkQueue({ name: `wq-test-${++n}`, ...opts });

describe('runtime/workqueue', () => {
  it('collapses repeated adds of a waiting key and keeps FIFO order', async () => {
    const q = queue();
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.len()).to.equal(2);
    expect(await q.get()).to.equal('a');
    expect(await q.get()).to.equal('b');
    q.shutDown();
  });

  it('never hands a key to two workers; an add while processing runs once more after done', async () => {
    const q = queue();
    q.add('a');
    const first = await q.get();
    q.add('a');
    q.add('a');
    expect(q.len()).to.equal(0);
    let second: string | undefined;
    void q.get().then((k) => {
      second = k;
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(second).to.equal(undefined);
    q.done(first!);
    await new Promise((r) => setImmediate(r));
    expect(second).to.equal('a');
    q.done('a');
    expect(q.len()).to.equal(0);
    q.shutDown();
  });

  it('addAfter keeps the earliest time', async () => {
    const q = queue();
    q.addAfter('a', 5000);
    q.addAfter('a', 20);
    q.addAfter('a', 3000);
    const t0 = Date.now();
    expect(await q.get()).to.equal('a');
    expect(Date.now() - t0).to.be.below(1000);
    q.shutDown();
  });

  it('backs off per key exponentially and forget() resets it', async () => {
    const q = queue({ baseDelayMs: 10, maxDelayMs: 80 });
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      q.addRateLimited('a');
      const k = (await q.get())!;
      waits.push(performance.now() - t0);
      q.done(k);
    }
    expect(q.numRequeues('a')).to.equal(5);
    // 10, 20, 40, 80, 80 (capped); timers fire late, never early.
    expect(waits[0]).to.be.at.least(9);
    expect(waits[2]).to.be.at.least(39);
    expect(waits[4]).to.be.at.least(79).and.below(200);
    q.forget('a');
    expect(q.numRequeues('a')).to.equal(0);
    q.shutDown();
  });

  it('the global bucket limits rate-limited adds across keys', async () => {
    const q = queue({ baseDelayMs: 1, qps: 20, burst: 2 });
    const t0 = performance.now();
    for (const k of ['a', 'b', 'c', 'd']) q.addRateLimited(k);
    for (let i = 0; i < 4; i++) q.done((await q.get())!);
    // Two from the burst, then 50 ms per token.
    expect(performance.now() - t0).to.be.at.least(95);
    q.shutDown();
  });

  it('shutDown releases waiting workers; shutDownWithDrain waits for keys in flight', async () => {
    const q = queue();
    const waiting = q.get();
    q.shutDown();
    expect(await waiting).to.equal(undefined);
    q.add('x');
    expect(await q.get()).to.equal(undefined);

    const d = queue();
    d.add('a');
    const key = (await d.get())!;
    let drained = false;
    const drain = d.shutDownWithDrain().then(() => {
      drained = true;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(drained).to.equal(false);
    d.done(key);
    await drain;
    expect(drained).to.equal(true);
  });

  it('exports client-go metric names labelled with the queue name', async () => {
    const q = queue();
    q.add('a');
    q.add('b');
    const k = (await q.get())!;
    q.addRateLimited('c');
    const text = await registry.metrics();
    expect(text).to.include(`workqueue_depth{name="${q.name}"} 1`);
    expect(text).to.include(`workqueue_adds_total{name="${q.name}"} 2`);
    expect(text).to.include(`workqueue_retries_total{name="${q.name}"} 1`);
    expect(text).to.match(new RegExp(`workqueue_queue_duration_seconds_count\\{name="${q.name}"\\} 1`));
    expect(text).to.match(new RegExp(`workqueue_unfinished_work_seconds\\{name="${q.name}"\\} \\d`));
    expect(text).to.include(`workqueue_longest_running_processor_seconds{name="${q.name}"}`);
    q.done(k);
    expect(await registry.metrics()).to.match(
      new RegExp(`workqueue_work_duration_seconds_count\\{name="${q.name}"\\} 1`),
    );
    q.shutDown();
  });
});
