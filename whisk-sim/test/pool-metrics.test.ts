// whisk-sim's own guarantees beyond the REST API: real invocations drive the load gauges the operator
// reads, the pool queues when user memory is full and reuses warm containers, and actions are
// isolated (a runaway loop or a memory hog is killed without harming the server).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitUntil } from '@mecqkd/common/process';
import { expect } from 'chai';
import openwhisk from 'openwhisk';
import { GUEST_KEY, GUEST_UUID } from '../src/config.ts';
import { startServer, type WhiskSim } from '../src/server.ts';

function gauge(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels}`) && !l.startsWith(`${name}_`));
  if (!line) throw new Error(`metric ${name}${labels} missing`);
  return Number(line.split(' ').at(-1));
}

type Failed = { statusCode: number; error: { response: { status: string; result: { error: string } } } };

async function failure(p: Promise<unknown>): Promise<Failed> {
  try {
    await p;
  } catch (err) {
    return err as Failed;
  }
  throw new Error('expected the invocation to fail');
}

describe('whisk-sim container starts', function () {
  this.timeout(60_000);
  // A container whose Node.js takes 1.5 s to boot, as on a loaded machine: the deployment's
  // NODE_OPTIONS makes every container of the namespace block before the runner starts.
  const dir = mkdtempSync(join(tmpdir(), 'whisk-slow-boot-'));
  const slowBoot = join(dir, 'slow-boot.cjs');
  writeFileSync(slowBoot, 'Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1500);\n');
  const sims: WhiskSim[] = [];
  async function slowSim(containerStartTimeoutMs?: number) {
    const sim = await startServer({
      port: 0,
      logLevel: 'silent',
      ...(containerStartTimeoutMs === undefined ? {} : { containerStartTimeoutMs }),
      namespaces: [
        {
          name: 'guest',
          uuid: GUEST_UUID,
          key: GUEST_KEY,
          containerEnv: { NODE_OPTIONS: `--require ${slowBoot}` },
        },
      ],
    });
    sims.push(sim);
    return openwhisk({ apihost: sim.url, api_key: `${GUEST_UUID}:${GUEST_KEY}` });
  }
  after(async () => {
    await Promise.all(sims.map((s) => s.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  it("does not charge a slow container start to the action's time limit (it is wait time)", async () => {
    const ow = await slowSim();
    await ow.actions.create({
      name: 'quick',
      action: 'function main() { return { ok: true }; }',
      limits: { timeout: 500 },
    });
    const r = (await ow.actions.invoke({ name: 'quick', blocking: true })) as {
      response: { result: unknown };
      annotations: { key: string; value: unknown }[];
    };
    expect(r.response.result).to.deep.equal({ ok: true });
    const waitTime = r.annotations.find((a) => a.key === 'waitTime')?.value as number;
    const initTime = r.annotations.find((a) => a.key === 'initTime')?.value as number;
    expect(waitTime, 'the container start is waited for').to.be.at.least(1500);
    expect(initTime, '/init alone, within the time limit').to.be.below(500);
  });

  it('answers a whisk internal error when a container does not start in time, and kills it', async () => {
    const ow = await slowSim(200);
    await ow.actions.create({ name: 'quick', action: 'function main() { return { ok: true }; }' });
    const failed = await failure(ow.actions.invoke({ name: 'quick', blocking: true }));
    expect(failed.error.response.status).to.equal('whisk internal error');
    expect(failed.error.response.result.error).to.equal(
      'Failed to start the action container within 200 milliseconds.',
    );
    expect(sims.at(-1)?.services.pool.stats().activeCount, 'no container left busy').to.equal(0);
  });
});

describe('whisk-sim container pool and metrics', () => {
  let sim: WhiskSim;
  let ow: ReturnType<typeof openwhisk>;
  const metrics = () => fetch(`${sim.url}/metrics`).then((r) => r.text());

  before(async () => {
    sim = await startServer({
      port: 0,
      logLevel: 'silent',
      capacityMb: 256,
      throttles: { invocationsPerMinute: 10_000, concurrentInvocations: 100, firesPerMinute: 60 },
    });
    const ns = sim.services.config.namespaces[0];
    ow = openwhisk({ apihost: sim.url, api_key: `${ns?.uuid}:${ns?.key}` });
  });
  after(() => sim?.close());

  it('drives the load gauges with real invocations and queues beyond user memory', async () => {
    await ow.actions.create({
      name: 'busy',
      action: 'function main(p) { return new Promise((r) => setTimeout(() => r({}), p.ms)); }',
      limits: { memory: 128 },
    });
    const idle = await metrics();
    expect(gauge(idle, 'gauge_loadbalancer_totalCapacityManaged_counter')).to.equal(256);
    expect(gauge(idle, 'gauge_loadbalancer_memoryManagedInflight_counter')).to.equal(0);
    const ids = await Promise.all(
      [1, 2, 3].map(() => ow.actions.invoke({ name: 'busy', params: { ms: 3000 } })),
    );
    // two containers running (cold starts take their time on a loaded machine), the third queued
    let busy = '';
    await waitUntil(
      'two activations running and one queued',
      async () => {
        busy = await metrics();
        return gauge(busy, 'gauge_containerPool_activeCount_counter') === 2;
      },
      { intervalMs: 25 },
    );
    expect(gauge(busy, 'gauge_loadbalancer_activationsInflight_counter')).to.equal(3);
    expect(gauge(busy, 'gauge_loadbalancer_memoryManagedInflight_counter')).to.equal(384);
    expect(gauge(busy, 'gauge_containerPool_activeCount_counter')).to.equal(2);
    expect(gauge(busy, 'gauge_containerPool_runBufferCount_counter')).to.equal(1);
    expect(gauge(busy, 'gauge_containerPool_activeSize_counter_bytes')).to.equal(256 * 1024 * 1024);
    // The queued one ran after a container freed up, warm.
    const third = ids[2]?.activationId as string;
    let record: { annotations?: { key: string; value: unknown }[] } | undefined;
    await waitUntil('the queued activation recorded', async () => {
      record = await ow.activations.get({ name: third }).catch(() => undefined);
      return record !== undefined;
    });
    const wait = record?.annotations?.find((a) => a.key === 'waitTime')?.value as number;
    expect(wait).to.be.at.least(1000);
    expect(record?.annotations?.find((a) => a.key === 'initTime')).to.equal(undefined);
    const after = await metrics();
    expect(gauge(after, 'gauge_loadbalancer_memoryManagedInflight_counter')).to.equal(0);
    expect(gauge(after, 'gauge_containerPool_idlesCount_counter')).to.equal(2);
    expect(gauge(after, 'counter_invoker_containerStart_counter_total', '{containerState="cold"}')).to.equal(
      2,
    );
    expect(
      gauge(after, 'counter_invoker_containerStart_counter_total', '{containerState="warmed"}'),
    ).to.equal(1);
    const labels = '{namespace="guest",initiator="guest",action="busy"';
    expect(
      gauge(after, 'openwhisk_action_activations_total', `${labels},kind="nodejs:20",memory="128"}`),
    ).to.equal(3);
    expect(gauge(after, 'openwhisk_action_coldStarts_total', `${labels}}`)).to.equal(2);
    expect(gauge(after, 'openwhisk_action_status', `${labels},status="success"}`)).to.equal(3);
    expect(gauge(after, 'openwhisk_action_waitTime_seconds_count', `${labels}}`)).to.equal(3);
    expect(gauge(after, 'openwhisk_action_initTime_seconds_count', `${labels}}`)).to.equal(2);
  });

  it('kills a runaway synchronous loop at the time limit and keeps serving', async () => {
    // Warm the container first: the loop then starts in /run, whatever the machine's load did to the
    // container's start, so the time limit it hits is the run's.
    await ow.actions.create({
      name: 'spin',
      action: 'function main(p) { if (p.spin) for (;;) {} return { warm: true }; }',
      limits: { timeout: 500 },
    });
    expect(await ow.actions.invoke({ name: 'spin', blocking: true, result: true })).to.deep.equal({
      warm: true,
    });
    const failed = await failure(ow.actions.invoke({ name: 'spin', blocking: true, params: { spin: true } }));
    expect(failed.error.response.result.error).to.equal(
      'The action exceeded its time limits of 500 milliseconds.',
    );
    await ow.actions.create({ name: 'ok', action: 'function main() { return { ok: true }; }' });
    expect(await ow.actions.invoke({ name: 'ok', blocking: true, result: true })).to.deep.equal({ ok: true });
  });

  it('aborts an action that exhausts its memory limit', async () => {
    await ow.actions.create({
      name: 'hog',
      action: 'function main() { const a = []; for (;;) a.push(new Array(1e5).fill({ x: Math.random() })); }',
      limits: { memory: 128, timeout: 20_000 },
    });
    const failed = await failure(ow.actions.invoke({ name: 'hog', blocking: true }));
    expect(failed.statusCode).to.equal(502);
    expect(failed.error.response.status).to.equal('action developer error');
    expect(failed.error.response.result.error).to.equal('The action exhausted its memory and was aborted.');
  });

  it('turns a result over 1 MB into an application error', async () => {
    await ow.actions.create({
      name: 'huge',
      action: 'function main() { return { s: "x".repeat(1100000) }; }',
    });
    const failed = await failure(ow.actions.invoke({ name: 'huge', blocking: true }));
    expect(failed.error.response.status).to.equal('application error');
    expect(failed.error.response.result.error).to.match(
      /^The action produced a response that exceeded the allowed length: \d+ > 1048576 bytes\.$/,
    );
  });
});
