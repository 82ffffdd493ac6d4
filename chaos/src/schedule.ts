// When which fault happens: a seeded schedule of faults that do not overlap, each held for a while
// and then healed. The short profile injects every kind once; the long one draws kinds at random
// until the time is up. Pure: the harness turns the plan into signals and admin calls.
import { between, type Rng } from './rng.ts';

export const FAULT_KINDS = [
  'operator-kill',
  'operator-kill-follower',
  'lcmp-kill',
  'redis-kill',
  'redis-pause',
  'whisk-kill',
  'whisk-pause',
  'host-sae-kill',
  'host-sae-pause',
  'kme-kill',
  'kme-pause',
  'etcd-kill',
  'etcd-pause',
  'apiserver-kill',
  'apiserver-pause',
  'qkd-link-cut',
  'openwhisk-5xx',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface PlannedFault {
  kind: FaultKind;
  /** ms after the start of the fault phase. */
  at: number;
  /** How long the fault holds before it is healed (restart, SIGCONT, link restored, 5xx off). */
  holdMs: number;
  /** Which host (for host-scoped faults), drawn from the schedule's hosts. */
  host: string;
}

export interface ScheduleOptions {
  kinds: readonly FaultKind[];
  hosts: readonly string[];
  /** Length of the fault phase. */
  durationMs: number;
  holdMs: [number, number];
  /** Quiet time between one fault's healing and the next fault. */
  gapMs: [number, number];
  /** Every kind exactly once (short profile) instead of random kinds until the time is up. */
  eachOnce: boolean;
}

function shuffled<T>(rng: Rng, xs: readonly T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export function planFaults(rng: Rng, o: ScheduleOptions): PlannedFault[] {
  if (o.kinds.length === 0 || o.hosts.length === 0) return [];
  const plan: PlannedFault[] = [];
  const order = o.eachOnce ? shuffled(rng, o.kinds) : [];
  let t = between(rng, ...o.gapMs);
  for (let i = 0; o.eachOnce ? i < order.length : true; i++) {
    const kind = o.eachOnce ? order[i]! : o.kinds[Math.floor(rng() * o.kinds.length)]!;
    const holdMs = between(rng, ...o.holdMs);
    if (!o.eachOnce && t + holdMs > o.durationMs) break;
    plan.push({ kind, at: t, holdMs, host: o.hosts[Math.floor(rng() * o.hosts.length)]! });
    t += holdMs + between(rng, ...o.gapMs);
  }
  return plan;
}
