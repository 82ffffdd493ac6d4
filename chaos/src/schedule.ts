// When which fault happens: a seeded schedule of waves. A wave is a few faults on different parts,
// injected a little apart and each held for a while, so that they overlap (a host's whisk-sim dead
// while etcd is paused and the LCMP restarts); the next wave starts only once every fault of this one
// is healed and the system is whole again, which is what lets the harness time each recovery. The
// short profile injects every kind once, one per wave; the long one deals kinds from shuffled decks
// (every kind as often as any other) until the time is up. Pure: the harness turns the plan into
// signals and admin calls.
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
  /** ms after the start of its wave. */
  offsetMs: number;
  /** How long the fault holds before it is healed (restart, SIGCONT, link restored, 5xx off). */
  holdMs: number;
  /** Which host (for host-scoped faults), drawn from the schedule's hosts. */
  host: string;
}

export interface Wave {
  /** Quiet time between the previous wave's recovery and this wave's first fault. */
  gapMs: number;
  faults: PlannedFault[];
}

export interface ScheduleOptions {
  kinds: readonly FaultKind[];
  hosts: readonly string[];
  /** Length of the fault phase, counting gaps and holds only (recoveries add to it at run time). */
  durationMs: number;
  holdMs: [number, number];
  gapMs: [number, number];
  /** Faults per wave. */
  waveSize: [number, number];
  /** Latest injection of a wave's fault after its first. */
  staggerMs: number;
  /** Every kind exactly once, one per wave (short profile), instead of decks until the time is up. */
  eachOnce: boolean;
}

/**
 * The process or switch a fault breaks. Two faults of one wave never share a part: a paused process
 * cannot also be killed, the leader and the follower are told apart only while both run, and the
 * QKD link is switched through the KMEs' admin endpoint.
 */
export function partOf(f: Pick<PlannedFault, 'kind' | 'host'>): string {
  switch (f.kind) {
    case 'operator-kill':
    case 'operator-kill-follower':
      return 'operators';
    case 'lcmp-kill':
      return 'lcmp';
    case 'redis-kill':
    case 'redis-pause':
      return 'redis';
    case 'whisk-kill':
    case 'whisk-pause':
      return `whisk-sim ${f.host}`;
    case 'host-sae-kill':
    case 'host-sae-pause':
      return `host SAE ${f.host}`;
    case 'kme-kill':
    case 'kme-pause':
    case 'qkd-link-cut':
      return 'kmes';
    case 'etcd-kill':
    case 'etcd-pause':
      return 'etcd';
    case 'apiserver-kill':
    case 'apiserver-pause':
      return 'kube-apiserver';
    case 'openwhisk-5xx':
      return `fault proxy ${f.host}`;
  }
}

function shuffled<T>(rng: Rng, xs: readonly T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** The first kinds of the deck that fit one wave (on parts of their own), taken out of the deck. */
function deal(rng: Rng, deck: FaultKind[], size: number, o: ScheduleOptions): PlannedFault[] {
  const wave: PlannedFault[] = [];
  const used = new Set<string>();
  for (let i = 0; i < deck.length && wave.length < size; ) {
    const kind = deck[i]!;
    const host = shuffled(rng, o.hosts).find((h) => !used.has(partOf({ kind, host: h })));
    if (host === undefined) {
      i++;
      continue;
    }
    used.add(partOf({ kind, host }));
    deck.splice(i, 1);
    const offsetMs = wave.length === 0 ? 0 : between(rng, 0, o.staggerMs);
    wave.push({ kind, host, offsetMs, holdMs: between(rng, ...o.holdMs) });
  }
  return wave;
}

/**
 * Whether the long profile starts another wave: until its minutes are up, and past them while it
 * has injected fewer than `minFaults` (a loaded machine restarts processes slowly, and waves take
 * longer), but never past twice its minutes.
 */
export function keepInjecting(
  done: { elapsedMs: number; faults: number },
  o: { minutes: number; minFaults: number },
): boolean {
  const ms = o.minutes * 60_000;
  return done.elapsedMs < ms || (done.faults < o.minFaults && done.elapsedMs < 2 * ms);
}

const waveLength = (faults: PlannedFault[]) => Math.max(0, ...faults.map((f) => f.offsetMs + f.holdMs));

export function planWaves(rng: Rng, o: ScheduleOptions): Wave[] {
  if (o.kinds.length === 0 || o.hosts.length === 0) return [];
  const plan: Wave[] = [];
  if (o.eachOnce) {
    for (const kind of shuffled(rng, o.kinds)) {
      const gapMs = between(rng, ...o.gapMs);
      const host = o.hosts[Math.floor(rng() * o.hosts.length)]!;
      plan.push({ gapMs, faults: [{ kind, host, offsetMs: 0, holdMs: between(rng, ...o.holdMs) }] });
    }
    return plan;
  }
  const deck: FaultKind[] = [];
  for (let t = 0; ; ) {
    // two decks ahead, so that a wave can always be filled with kinds on parts of their own
    while (deck.length < 2 * o.kinds.length) deck.push(...shuffled(rng, o.kinds));
    const gapMs = between(rng, ...o.gapMs);
    const faults = deal(rng, deck, between(rng, ...o.waveSize), o);
    t += gapMs + waveLength(faults);
    if (t > o.durationMs) return plan;
    plan.push({ gapMs, faults });
  }
}
