// Faults made real: SIGKILL and a restart, SIGSTOP and SIGCONT, a QKD link cut and restored, a
// host's OpenWhisk answering 5xx. `inject` breaks the part and returns what heals it.
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

function pause(pid: () => number): () => Promise<void> {
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
async function kill(s: Supervisor): Promise<() => Promise<void>> {
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

export async function inject(world: ChaosWorld, f: PlannedFault): Promise<() => Promise<void>> {
  switch (f.kind) {
    case 'operator-kill':
    case 'operator-kill-follower': {
      const lead = await leader(world);
      const name =
        f.kind === 'operator-kill' ? lead : (Object.keys(world.operators).find((n) => n !== lead) ?? lead);
      return kill(world.operators[name]!);
    }
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
