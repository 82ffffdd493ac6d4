// Faults made real: SIGKILL and a restart, SIGSTOP and SIGCONT, a QKD link cut and restored, a
// host's OpenWhisk answering 5xx. `aim` picks the victim, the function it returns breaks the part
// and returns what heals it.
import { eventually, getJson, type Supervisor } from '../../operator/test/e2e/support.ts';
import type { PlannedFault } from './schedule.ts';
import type { ChaosWorld } from './world.ts';

/** SIGSTOP/SIGCONT to the process group the part leads (tracked children are group leaders). */
function signal(pid: number, sig: 'SIGSTOP' | 'SIGCONT'): void {
  try {
    process.kill(-pid, sig);
  } catch {
    process.kill(pid, sig);
  }
}

function pause(pid: () => number): Heal {
  const p = pid();
  signal(p, 'SIGSTOP');
  return async () => signal(p, 'SIGCONT');
}

async function leader(world: ChaosWorld): Promise<string> {
  const lease = await getJson<{ spec: { holderIdentity?: string } }>(world.tb, 'lease', 'mecqkd-operator');
  const holder = lease.spec.holderIdentity;
  return holder && holder in world.operators ? holder : 'operator-a';
}

/** SIGKILL; the supervisor restarts the process, and healing waits for the new one. */
async function kill(s: Supervisor): Promise<Heal> {
  const victim = s.current();
  await victim?.stop('SIGKILL');
  return async () => {
    await eventually(
      'the killed process restarted',
      async () => {
        const now = s.current();
        return now !== undefined && now !== victim;
      },
      90_000,
    );
  };
}

export type Heal = () => Promise<void>;

/**
 * What breaks the fault's part, resolved before its wave breaks anything: the operator replica to
 * kill is looked up in the Lease while the apiserver still answers (another fault of the wave may
 * take it down before this one's turn).
 */
export async function aim(world: ChaosWorld, f: PlannedFault): Promise<() => Promise<Heal>> {
  if (f.kind !== 'operator-kill' && f.kind !== 'operator-kill-follower') return () => inject(world, f);
  const lead = await leader(world);
  const name =
    f.kind === 'operator-kill' ? lead : (Object.keys(world.operators).find((n) => n !== lead) ?? lead);
  return () => kill(world.operators[name]!);
}

async function inject(world: ChaosWorld, f: PlannedFault): Promise<Heal> {
  switch (f.kind) {
    case 'operator-kill':
    case 'operator-kill-follower':
      throw new Error(`${f.kind} is aimed at a replica first`);
    case 'lcmp-kill':
      return kill(world.lcmp.supervisor);
    case 'whisk-kill':
      return kill(world.whisks[f.host]!);
    case 'kme-kill':
      return kill(world.kmes);
    case 'redis-kill':
      return kill(world.redis.supervisor);
    case 'host-sae-kill':
      return kill(world.hostSaes[f.host]!);
    case 'etcd-kill':
      return kill(world.controlPlane.etcd);
    case 'apiserver-kill':
      return kill(world.controlPlane['kube-apiserver']);
    case 'redis-pause':
      return pause(() => world.redis.supervisor.current()!.pid);
    case 'whisk-pause':
      return pause(() => world.whisks[f.host]!.current()!.pid);
    case 'host-sae-pause':
      return pause(() => world.hostSaes[f.host]!.current()!.pid);
    case 'kme-pause':
      return pause(() => world.kmes.current()!.pid);
    case 'etcd-pause':
      return pause(() => world.controlPlane.etcd.current()!.pid);
    case 'apiserver-pause':
      return pause(() => world.controlPlane['kube-apiserver'].current()!.pid);
    case 'qkd-link-cut':
      await world.tb.adjustLink(f.host, { enabled: false });
      return () => world.tb.adjustLink(f.host, { enabled: true });
    case 'openwhisk-5xx':
      world.proxies[f.host]!.failing = true;
      return async () => {
        world.proxies[f.host]!.failing = false;
      };
  }
}
