import { expect } from 'chai';
import type { KubeClient } from '../src/kube-client.ts';
import { objectPath } from '../src/kube-paths.ts';
import { LeaderElector } from '../src/leader-election.ts';
import { registry } from '../src/metrics.ts';
import { clientFor, deleteNamespace, eventually, freshNamespace } from './support.ts';

const LEASES = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases' };

interface Candidate {
  elector: LeaderElector;
  started: number[];
  stopped: number[];
  run: Promise<void>;
}

describe('runtime/leader-election (real apiserver)', function () {
  this.timeout(60_000);
  let client: KubeClient;
  let ns: string;
  const candidates: Candidate[] = [];

  before(async () => {
    client = await clientFor();
    ns = await freshNamespace(client, 'leader');
  });
  afterEach(async () => {
    for (const c of candidates.splice(0)) await c.elector.stop();
  });
  after(async () => {
    await deleteNamespace(client, ns);
    await client.close();
  });

  function candidate(
    lease: string,
    identity: string,
    timing: { leaseDurationMs: number; renewDeadlineMs: number; retryPeriodMs: number },
    opts: { releaseOnCancel?: boolean; cleanupMs?: number } = {},
  ): Candidate {
    const c: Candidate = { started: [], stopped: [], elector: undefined as never, run: undefined as never };
    c.elector = new LeaderElector(
      client,
      { namespace: ns, name: lease, identity, releaseOnCancel: opts.releaseOnCancel ?? true, ...timing },
      {
        onStartedLeading: async (signal) => {
          c.started.push(Date.now());
          await new Promise((r) => signal.addEventListener('abort', r, { once: true }));
          await new Promise((r) => setTimeout(r, opts.cleanupMs ?? 0));
        },
        onStoppedLeading: () => c.stopped.push(Date.now()),
      },
    );
    c.run = c.elector.run();
    candidates.push(c);
    return c;
  }

  const fast = { leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 400 };
  const leaders = (cs: Candidate[]) => cs.filter((c) => c.elector.isLeader());

  it('elects exactly one of two, renews with six-digit MicroTimes, and reports the metric', async () => {
    const cs = [candidate('one-leader', 'a', fast), candidate('one-leader', 'b', fast)];
    await eventually('a leader', () => leaders(cs).length === 1);
    const first = leaders(cs)[0]!;
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 250));
      expect(leaders(cs)).to.deep.equal([first]);
    }
    const lease = await client.get<{ metadata: { name: string }; spec: Record<string, unknown> }>(
      objectPath(LEASES, ns, 'one-leader'),
    );
    expect(lease?.spec.holderIdentity).to.equal(first === cs[0] ? 'a' : 'b');
    expect(lease?.spec.leaseDurationSeconds).to.equal(2);
    expect(lease?.spec.renewTime).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(lease?.spec.acquireTime).to.match(/\.\d{6}Z$/);
    expect(Date.parse(String(lease?.spec.renewTime))).to.be.greaterThan(Date.now() - 2000);
    expect(await registry.metrics()).to.include('leader_election_master_status{name="one-leader"} 1');
  });

  it('fails over within the lease duration when the leader stops renewing', async () => {
    const cs = [
      candidate('failover', 'a', fast, { releaseOnCancel: false }),
      candidate('failover', 'b', fast, { releaseOnCancel: false }),
    ];
    await eventually('a leader', () => leaders(cs).length === 1);
    const [old] = leaders(cs);
    const other = cs.find((c) => c !== old)!;
    const stoppedAt = Date.now();
    await old!.elector.stop(); // no release: the Lease must expire
    await eventually('the other leads', () => other.elector.isLeader(), 10_000);
    const took = other.started[0]! - stoppedAt;
    // The follower counts expiry from when it saw the last renewal (up to one jittered retry period,
    // 2.2 × retryPeriod, after the stop), then notices at its next try (another 2.2 × retryPeriod).
    expect(took).to.be.below(fast.leaseDurationMs + 2 * 2.2 * fast.retryPeriodMs + 300);
    expect(took).to.be.above(fast.leaseDurationMs - 2.2 * fast.retryPeriodMs);
    const lease = await client.get<{ metadata: { name: string }; spec: { leaseTransitions?: number } }>(
      objectPath(LEASES, ns, 'failover'),
    );
    expect(lease?.spec.leaseTransitions).to.equal(1);
  });

  it('releases on shutdown after the guarded work ends, so the other takes over at once', async () => {
    const slow = { leaseDurationMs: 8000, renewDeadlineMs: 5000, retryPeriodMs: 300 };
    const cs = [
      candidate('release', 'a', slow, { cleanupMs: 300 }),
      candidate('release', 'b', slow, { cleanupMs: 300 }),
    ];
    await eventually('a leader', () => leaders(cs).length === 1);
    const [old] = leaders(cs);
    const other = cs.find((c) => c !== old)!;
    const stoppedAt = Date.now();
    await old!.elector.stop();
    expect(old!.stopped).to.have.length(1);
    await eventually('the other leads', () => other.elector.isLeader(), 5_000);
    // Well before the 8 s lease would expire, and never while the old leader was still cleaning up.
    expect(other.started[0]! - stoppedAt).to.be.below(2000);
    expect(other.started[0]!).to.be.at.least(old!.stopped[0]! - 5);
  });
});
