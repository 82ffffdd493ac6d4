// How leadership ends when it is not stopped: renewals failing past the renew deadline, a renewal
// still in flight at the deadline, a wall clock that jumps or stands still, and the guarded work
// failing. A fake Lease store stands in for the apiserver because these need an apiserver that
// answers late, or not at all, on cue; the real one is tested in leader-election.test.ts.

import { createLogger } from '@mecqkd/common/logger';
import { expect } from 'chai';
import type { Parse, RequestOptions, WriteOptions } from '../src/kube-client.ts';
import { KubeApiError } from '../src/kube-errors.ts';
import { LeaderElector, LeadershipEndedError } from '../src/leader-election.ts';
import type { KubeObject } from '../src/types.ts';
import { eventually } from './support.ts';

interface LeaseObject extends KubeObject {
  spec: { holderIdentity?: string; renewTime?: string; leaseDurationSeconds?: number };
}

interface Call {
  method: 'GET' | 'POST' | 'PUT';
  at: number;
  signal?: AbortSignal;
  /** The resourceVersion a PUT was based on, and the one stored when it arrived. */
  basedOn?: string;
  stored?: string;
}

/** One Lease kept in memory with the apiserver's optimistic concurrency (PUT with a stale resourceVersion → 409). */
class FakeLeases {
  stored?: LeaseObject;
  calls: Call[] = [];
  /** Every call waits for this before it is served. */
  gate?: Promise<void>;
  /** Every call (after the gate) fails with this. */
  failure?: Error;
  private rv = 0;

  async get<T extends KubeObject = KubeObject>(
    _path: string,
    parse?: Parse<T>,
    opts: RequestOptions = {},
  ): Promise<T | undefined> {
    await this.enter({ method: 'GET', at: performance.now(), signal: opts.signal });
    return this.stored && (parse ?? ((v) => v as T))(structuredClone(this.stored));
  }

  async create<T extends KubeObject = KubeObject>(
    _path: string,
    body: unknown,
    opts: WriteOptions = {},
    parse?: Parse<T>,
  ): Promise<T> {
    await this.enter({ method: 'POST', at: performance.now(), signal: opts.signal });
    if (this.stored) throw conflict('AlreadyExists');
    return this.store(body as LeaseObject, parse);
  }

  async replace<T extends KubeObject = KubeObject>(
    _path: string,
    body: unknown,
    opts: WriteOptions = {},
    parse?: Parse<T>,
  ): Promise<T> {
    const lease = body as LeaseObject;
    const call: Call = { method: 'PUT', at: performance.now(), signal: opts.signal };
    call.basedOn = lease.metadata.resourceVersion;
    await this.enter(call);
    call.stored = this.stored?.metadata.resourceVersion;
    if (call.basedOn !== call.stored) throw conflict('Conflict');
    return this.store(lease, parse);
  }

  /** What another replica would write: a holder with a fresh resourceVersion. */
  put(spec: LeaseObject['spec']): void {
    this.store({ metadata: { name: 'lease', namespace: 'ns' }, spec });
  }

  holder(): string | undefined {
    return this.stored?.spec.holderIdentity;
  }

  private async enter(call: Call): Promise<void> {
    this.calls.push(call);
    await this.gate;
    if (this.failure) throw this.failure;
  }

  private store<T>(lease: LeaseObject, parse?: Parse<T>): T {
    this.stored = structuredClone({
      ...lease,
      metadata: { ...lease.metadata, resourceVersion: String(++this.rv) },
    });
    return (parse ?? ((v) => v as T))(structuredClone(this.stored));
  }
}

const conflict = (reason: string) =>
  new KubeApiError({
    status: 409,
    reason,
    message: 'the object has been modified',
    method: 'PUT',
    path: 'x',
  });
const unreachable = () => KubeApiError.network('PUT', 'x', new Error('connect ECONNREFUSED'));

const timing = { leaseDurationMs: 1000, renewDeadlineMs: 400, retryPeriodMs: 100 };

interface Run {
  elector: LeaderElector;
  events: string[];
  /** performance.now() when onStoppedLeading ran. */
  stoppedAt?: number;
  outcome: Promise<unknown>;
}

function start(
  leases: FakeLeases,
  identity: string,
  work: (signal: AbortSignal, events: string[]) => Promise<void> = untilAborted,
  now?: () => number,
): Run {
  const events: string[] = [];
  const run = { events } as Run;
  run.elector = new LeaderElector(
    leases,
    { namespace: 'ns', name: 'lease', identity, ...timing },
    {
      onStartedLeading: (signal) => {
        events.push('started');
        return work(signal, events);
      },
      onStoppedLeading: () => {
        run.stoppedAt = performance.now();
        events.push('stopped-leading');
      },
    },
    createLogger('leader-election', process.env.LOG_LEVEL ?? 'silent'),
    ...(now ? [now] : []),
  );
  run.outcome = run.elector.run().then(
    () => 'resolved',
    (err: unknown) => err,
  );
  return run;
}

/** The usual leader work: runs until aborted, then takes a moment to wind down. */
async function untilAborted(signal: AbortSignal, events: string[]): Promise<void> {
  await new Promise((r) => signal.addEventListener('abort', r, { once: true }));
  await new Promise((r) => setTimeout(r, 50));
  events.push('work-stopped');
}

const realDateNow = Date.now;

describe('runtime/leader-election: how leadership ends (fake Lease store)', function () {
  this.timeout(10_000);
  const runs: Run[] = [];
  afterEach(async () => {
    Date.now = realDateNow;
    for (const r of runs.splice(0)) await r.elector.stop();
  });
  const track = (r: Run) => {
    runs.push(r);
    return r;
  };

  it('renewals failing past the renew deadline: the work stops, then onStoppedLeading, then run() rejects', async () => {
    const leases = new FakeLeases();
    const a = track(start(leases, 'a'));
    await eventually('leading', () => a.elector.isLeader());
    leases.failure = unreachable();
    const outcome = await a.outcome;
    expect(outcome).to.be.instanceOf(LeadershipEndedError);
    expect((outcome as LeadershipEndedError).reason).to.equal('lost');
    expect(a.events).to.deep.equal(['started', 'work-stopped', 'stopped-leading']);
    expect(a.elector.isLeader()).to.equal(false);
    const calls = leases.calls.length;
    await new Promise((r) => setTimeout(r, 3 * timing.retryPeriodMs));
    expect(leases.calls.length, 'no request after leadership ended').to.equal(calls);
  });

  it('a renewal in flight at the deadline is aborted, and its late answer sends no further write', async () => {
    const leases = new FakeLeases();
    const a = track(start(leases, 'a'));
    await eventually('leading', () => a.elector.isLeader());
    let answerLate!: (err: Error) => void;
    leases.gate = new Promise((_, reject) => {
      answerLate = reject;
    });
    const hungAt = leases.calls.length;
    const outcome = await a.outcome;
    expect((outcome as LeadershipEndedError).reason).to.equal('lost');
    const inFlight = leases.calls.slice(hungAt);
    expect(inFlight.map((c) => c.method)).to.deep.equal(['PUT']);
    expect(inFlight[0]!.signal?.aborted, 'the renewal was cancelled').to.equal(true);
    // The apiserver answers at last (as a paused one would after SIGCONT): the renewal failed there.
    const renewTime = leases.stored!.spec.renewTime;
    leases.gate = undefined;
    answerLate(unreachable());
    await new Promise((r) => setTimeout(r, 3 * timing.retryPeriodMs));
    // The old loop fell back to GET + PUT after the late failure and stamped the Lease again.
    const late = leases.calls.filter((c) => c.at > a.stoppedAt!);
    expect(late, 'requests after leadership ended').to.deep.equal([]);
    expect(leases.stored!.spec.renewTime).to.equal(renewTime);
    // Every renewal was a conditional write on the resourceVersion it was based on.
    for (const put of leases.calls.filter((c) => c.method === 'PUT')) expect(put.basedOn).to.be.a('string');
  });

  it('a renewal cut off by its budget ends the try, though the clock says a little time is left', async () => {
    // The attempt's timer fires when the clock is not yet at the deadline, as when the event loop's
    // cached time lags behind it: here a clock running at 0.9 × real time.
    const t0 = performance.now();
    const leases = new FakeLeases();
    const a = track(start(leases, 'a', untilAborted, () => t0 + 0.9 * (performance.now() - t0)));
    await eventually('leading', () => a.elector.isLeader());
    leases.gate = new Promise(() => undefined);
    const hungAt = leases.calls.length;
    const outcome = await a.outcome;
    expect((outcome as LeadershipEndedError).reason).to.equal('lost');
    expect(
      leases.calls.slice(hungAt).map((c) => c.method),
      'one renewal, then none',
    ).to.deep.equal(['PUT']);
  });

  it('gives up at the renew deadline even while the wall clock stands still (monotonic deadline)', async () => {
    const leases = new FakeLeases();
    const a = track(start(leases, 'a'));
    await eventually('leading', () => a.elector.isLeader());
    const frozen = realDateNow();
    Date.now = () => frozen;
    leases.failure = unreachable();
    const outcome = await a.outcome;
    expect((outcome as LeadershipEndedError).reason).to.equal('lost');
  });

  it('a wall clock jumping forward does not let a follower take a Lease that has not expired', async () => {
    const leases = new FakeLeases();
    leases.put({
      holderIdentity: 'other',
      leaseDurationSeconds: 30,
      renewTime: '2026-01-01T00:00:00.000000Z',
    });
    const b = track(start(leases, 'b'));
    // a second GET means the answer to the first one has been observed
    await eventually('the follower saw the Lease', () => leases.calls.length >= 2);
    Date.now = () => realDateNow() + 3_600_000;
    const seen = leases.calls.length;
    await eventually('three more tries', () => leases.calls.length >= seen + 3, 5_000);
    expect(
      leases.calls.filter((c) => c.method === 'PUT'),
      'takeover writes',
    ).to.deep.equal([]);
    expect(b.elector.isLeader()).to.equal(false);
    expect(leases.holder()).to.equal('other');
  });

  it('the leader work failing ends leadership: renewals stop, the Lease is released, run() rejects', async () => {
    const leases = new FakeLeases();
    const a = track(
      start(leases, 'a', async () => {
        await new Promise((r) => setTimeout(r, 2 * timing.retryPeriodMs));
        throw new Error('informer appcontexts stopped: 403 Forbidden');
      }),
    );
    const outcome = await a.outcome;
    expect(outcome).to.be.instanceOf(LeadershipEndedError);
    expect((outcome as LeadershipEndedError).reason).to.equal('work-failed');
    expect((outcome as Error).message).to.include('403 Forbidden');
    expect(a.events).to.deep.equal(['started', 'stopped-leading']);
    expect(leases.holder(), 'released for the next replica').to.equal(undefined);
    const calls = leases.calls.length;
    await new Promise((r) => setTimeout(r, 3 * timing.retryPeriodMs));
    expect(leases.calls.length, 'no renewal after the work failed').to.equal(calls);
  });

  it('the leader work returning while still leading ends leadership too (no renewing while idle)', async () => {
    const leases = new FakeLeases();
    const a = track(start(leases, 'a', async () => {}));
    const outcome = await a.outcome;
    expect((outcome as LeadershipEndedError).reason).to.equal('work-failed');
    expect(a.elector.isLeader()).to.equal(false);
  });

  it('stop() still ends quietly: run() resolves after the work stopped and the Lease was released', async () => {
    const leases = new FakeLeases();
    const a = start(leases, 'a');
    await eventually('leading', () => a.elector.isLeader());
    await a.elector.stop();
    expect(await a.outcome).to.equal('resolved');
    expect(a.events).to.deep.equal(['started', 'work-stopped', 'stopped-leading']);
    expect(leases.holder()).to.equal(undefined);
  });
});
