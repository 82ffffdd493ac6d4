// The discrete-event simulator. Ground truth is the hosts' CPU in use and, per QKD link, the key rate
// drawn by the contexts routed over it and a key buffer that fills at the link's current secret key
// rate and drains at that draw. A placement succeeds only if the chosen host and every hop of the
// chosen path truly have room; otherwise the context is blocked (the deploy or the first key request
// fails). A buffer that runs dry drops the newest contexts over that link until the draw fits.
// Policies see telemetry: exact at every decision (fresh) or a snapshot taken every T seconds (stale).
import { optimise } from '@mecqkd/operator/placement/optimise';
import { type Rng, seededRng } from '@mecqkd/operator/placement/rng';
import { DEFAULT_WEIGHTS } from '@mecqkd/operator/placement/score';
import type {
  AppDemand,
  HostView,
  LinkView,
  OptimiseOptions,
  PlacedContext,
  ScoreWeights,
} from '@mecqkd/operator/placement/types';
import { EventQueue } from './heap.ts';
import { CLIENT_KME, type Instance } from './model.ts';
import { type Policy, seedWeightedRandom, type View } from './policies.ts';
import { jain } from './stats.ts';
import { type Arrival, type Disturbance, type DisturbanceModel, disturbanceTrace } from './trace.ts';

export type Trigger = 'never' | 'seed' | 'ours';

/**
 * The operator's defaults (operator/src/config.ts): optimisePeriod 30 s, 5 moves, gain 0.05, cool-down
 * 60 s, margins 0.1, drain horizon optimisePeriod + maxTelemetryAge = 60 s.
 */
export const OPERATOR_OPTIMISER = {
  periodS: 30,
  maxMigrationsPerRound: 5,
  minScoreGain: 0.05,
  cooldownMs: 60_000,
  loadMargin: 0.1,
  keyMargin: 0.1,
  keyRateMargin: 0.1,
  drainHorizonMs: 60_000,
  weights: DEFAULT_WEIGHTS,
};

export interface SimConfig {
  instance: Instance;
  trace: readonly Arrival[];
  /** Arrivals before this index are warm-up: simulated, not measured. */
  warmup: number;
  policy: Policy;
  trigger: Trigger;
  /** Seconds between telemetry snapshots; 0 = fresh (exact at every decision). */
  telemetryPeriodS: number;
  seed: number;
  disturbances?: DisturbanceModel;
  /** Key buffer size in seconds of the link's nominal rate. */
  bufferS?: number;
  /** Seconds between migration rounds (seed and ours). */
  optimisePeriodS?: number;
  /** Score weights of our optimiser (the operator uses one set for placement and optimisation). */
  weights?: ScoreWeights;
  /** Our optimiser's options other than the operator's defaults (for the lab's trade-off study). */
  optimiser?: Partial<Omit<OptimiseOptions, 'now' | 'weights'>>;
}

export interface RunMetrics {
  arrivals: number;
  blocked: number;
  /** Blocked because the policy picked a host or path that was in fact full (stale or blind view). */
  misplaced: number;
  dropped: number;
  migrations: number;
  /** Migrations off a path whose buffer was refilling (no hop drawing more than its current rate). */
  migrationsFromRefilling: number;
  /**
   * Migrations off a draining path whose every draining hop would have recovered (its disturbance
   * over) before its buffer ran dry at the draw of that moment: a drop they did not prevent. Known
   * only to the simulator (it knows when a disturbance ends).
   */
  migrationsOutlasted: number;
  /** Migrations by the trigger's reason (KeysLow, HostOverloaded; the seed's as the operator would name them). */
  migrationReasons: Record<string, number>;
  failedMigrations: number;
  notifications: number;
  deploys: number;
  /** Measured span, hours. */
  hours: number;
  /** Key drawn over all hops, bits (relays pay on every hop). */
  keyBits: number;
  /** Mean Jain's index of host utilisation, sampled every 10 s. */
  jain: number;
  /** Mean max − min host utilisation. */
  spread: number;
  /** Fraction of host samples above maxLoad. */
  overload: number;
  decisionNs: number;
  decisions: number;
}

interface Ctx {
  id: string;
  app: number;
  host: number;
  links: number[];
  kmes: string[];
  /** When it arrived on its current host (for the operator's "placed since the measurement"). */
  since: number;
  lastMoved: number;
  departAt: number;
}

type Event =
  | { kind: 'arrival'; index: number; time: number; seq: number }
  | { kind: 'departure'; id: string; time: number; seq: number }
  | { kind: 'telemetry'; time: number; seq: number }
  | { kind: 'optimise'; time: number; seq: number }
  | { kind: 'sample'; time: number; seq: number }
  | { kind: 'disturbance'; d: Disturbance; time: number; seq: number }
  | { kind: 'empty'; link: number; version: number; time: number; seq: number };

export function simulate(cfg: SimConfig): RunMetrics {
  const { instance, trace, policy } = cfg;
  const H = instance.hosts.length;
  const L = instance.links.length;
  const bufferS = cfg.bufferS ?? 120;
  const period = cfg.optimisePeriodS ?? OPERATOR_OPTIMISER.periodS;
  const rng: Rng = seededRng(cfg.seed * 2_654_435_761 + 7);
  const minCapacity = Math.min(...instance.hosts.map((h) => h.capacity));
  // The operator's estimate (operator/src/controllers/views.ts): one load per app, over the smallest host.
  const demands: AppDemand[] = instance.apps.map((a) => ({
    app: a.name,
    maxLoad: a.maxLoad,
    minKeyAvailability: a.minKeyAvailability,
    keyRate: a.keyRate,
    loadPerContext: Math.min(1, a.cpu / minCapacity),
  }));
  const hostIndex = new Map(instance.hosts.map((h, i) => [h.name, i]));
  const linkIndex = new Map<string, number>();
  instance.links.forEach((l, i) => {
    linkIndex.set(`${l.ends[0]}\n${l.ends[1]}`, i);
    linkIndex.set(`${l.ends[1]}\n${l.ends[0]}`, i);
  });

  // ground truth
  const used = new Float64Array(H);
  const onHost: Set<Ctx>[] = instance.hosts.map(() => new Set());
  const appsOnHost: Map<number, number>[] = instance.hosts.map(() => new Map());
  const draw = new Float64Array(L);
  const skr = Float64Array.from(instance.links, (l) => l.secretKeyRate);
  const capacity = Float64Array.from(instance.links, (l) => l.secretKeyRate * bufferS);
  const level = Float64Array.from(capacity);
  const levelAt = new Float64Array(L);
  const version = new Int32Array(L);
  const onLink: Set<Ctx>[] = instance.links.map(() => new Set());
  /** When each link's current disturbance ends (now or earlier when it is not disturbed). */
  const recoverAt = new Float64Array(L);
  const contexts = new Map<string, Ctx>();

  // telemetry snapshot
  let snapAt = 0;
  const snapLoad = new Float64Array(H);
  const snapAvail = new Float64Array(L).fill(1);
  const snapSkr = Float64Array.from(skr);

  const q = new EventQueue<Event>();
  const m: RunMetrics = {
    arrivals: 0,
    blocked: 0,
    misplaced: 0,
    dropped: 0,
    migrations: 0,
    migrationsFromRefilling: 0,
    migrationsOutlasted: 0,
    migrationReasons: {},
    failedMigrations: 0,
    notifications: 0,
    deploys: 0,
    hours: 0,
    keyBits: 0,
    jain: 0,
    spread: 0,
    overload: 0,
    decisionNs: 0,
    decisions: 0,
  };
  const warmAt = trace[Math.min(cfg.warmup, trace.length - 1)]?.time ?? 0;
  const endAt = trace.at(-1)?.time ?? 0;
  let now = 0;
  const measuring = () => now >= warmAt;

  const advance = (l: number) => {
    const dt = now - (levelAt[l] as number);
    if (dt > 0) {
      if (measuring()) m.keyBits += (draw[l] as number) * dt;
      level[l] = Math.min(
        capacity[l] as number,
        Math.max(0, (level[l] as number) + ((skr[l] as number) - (draw[l] as number)) * dt),
      );
    }
    levelAt[l] = now;
  };
  const reschedule = (l: number) => {
    version[l] = (version[l] as number) + 1;
    const net = (skr[l] as number) - (draw[l] as number);
    if (net < -1e-9) {
      const at = now + (level[l] as number) / -net;
      q.push({ kind: 'empty', link: l, version: version[l] as number, time: at });
    }
  };
  const charge = (c: Ctx, sign: 1 | -1) => {
    const app = instance.apps[c.app]!;
    used[c.host] = Math.max(0, (used[c.host] as number) + sign * app.cpu);
    const counts = appsOnHost[c.host]!;
    counts.set(c.app, (counts.get(c.app) ?? 0) + sign);
    if (sign > 0) onHost[c.host]!.add(c);
    else onHost[c.host]!.delete(c);
    for (const l of c.links) {
      advance(l);
      draw[l] = Math.max(0, (draw[l] as number) + sign * app.keyRate);
      if (sign > 0) onLink[l]!.add(c);
      else onLink[l]!.delete(c);
      reschedule(l);
    }
  };
  const linksOf = (kmes: string[]): number[] | undefined => {
    const out: number[] = [];
    for (let i = 1; i < kmes.length; i++) {
      const l = linkIndex.get(`${kmes[i - 1]}\n${kmes[i]}`);
      if (l === undefined) return undefined;
      out.push(l);
    }
    return out;
  };
  /** The host and every hop truly have room for one more context of `app`. */
  const fits = (app: number, host: number, links: number[]) => {
    const a = instance.apps[app]!;
    if ((used[host] as number) + a.cpu > instance.hosts[host]!.capacity + 1e-9) return false;
    return links.every((l) => (draw[l] as number) + a.keyRate <= (skr[l] as number) + 1e-9);
  };

  const snapshot = () => {
    snapAt = now;
    instance.hosts.forEach((h, i) => {
      snapLoad[i] = (used[i] as number) / h.capacity;
    });
    for (let l = 0; l < L; l++) {
      advance(l);
      snapAvail[l] = (level[l] as number) / (capacity[l] as number);
      snapSkr[l] = skr[l] as number;
    }
  };
  const view = (kind: Policy['view'], exclude?: number): View => {
    if (cfg.telemetryPeriodS === 0) snapshot();
    const hosts: HostView[] = [];
    instance.hosts.forEach((h, i) => {
      if (i === exclude) return;
      let load = snapLoad[i] as number;
      if (kind === 'projected')
        for (const c of onHost[i]!) if (c.since > snapAt) load += demands[c.app]!.loadPerContext;
      hosts.push({
        name: h.name,
        ready: true,
        labels: {},
        kmeId: h.kmeId,
        load: Math.min(1, load),
        contexts: onHost[i]!.size,
        memoryMb: h.capacity * 1000,
      });
    });
    const links: LinkView[] = instance.links.map((l, i) => ({
      name: l.name,
      ends: l.ends,
      state: 'ACTIVE',
      keyAvailability: snapAvail[i] as number,
      secretKeyRate: snapSkr[i] as number,
      committedKeyRate: kind === 'projected' ? (draw[i] as number) : 0,
      storedKeyBits: (snapAvail[i] as number) * (capacity[i] as number),
      fresh: true,
    }));
    return { hosts, links };
  };

  const request = (c: { id: string; app: number }) => ({
    context: c.id,
    clientKmeId: CLIENT_KME,
    demand: demands[c.app]!,
  });

  const move = (c: Ctx, host: number, kmes: string[], reason: string): boolean => {
    const refilling = c.links.every((l) => (draw[l] as number) <= (skr[l] as number) + 1e-9);
    const outlasted =
      !refilling &&
      c.links.every((l) => {
        const net = (draw[l] as number) - (skr[l] as number);
        if (net <= 1e-9) return true;
        advance(l);
        return (recoverAt[l] as number) <= now + (level[l] as number) / net;
      });
    const links = linksOf(kmes);
    charge(c, -1);
    if (!links || !fits(c.app, host, links)) {
      charge(c, 1);
      if (measuring()) m.failedMigrations++;
      return false;
    }
    const deployed = (appsOnHost[host]!.get(c.app) ?? 0) > 0;
    Object.assign(c, { host, links, kmes, since: now, lastMoved: now });
    charge(c, 1);
    if (measuring()) {
      m.migrations++;
      if (refilling) m.migrationsFromRefilling++;
      if (outlasted) m.migrationsOutlasted++;
      m.migrationReasons[reason] = (m.migrationReasons[reason] ?? 0) + 1;
      m.notifications++;
      if (!deployed) m.deploys++;
    }
    return true;
  };

  const optimiseOurs = () => {
    const v = view('projected');
    const placed: PlacedContext[] = [...contexts.values()].map((c) => ({
      context: c.id,
      host: instance.hosts[c.host]!.name,
      clientKmeId: CLIENT_KME,
      demand: demands[c.app]!,
      placedAt: c.lastMoved * 1000,
      path: c.kmes,
    }));
    const options: OptimiseOptions = {
      ...OPERATOR_OPTIMISER,
      ...cfg.optimiser,
      weights: cfg.weights ?? OPERATOR_OPTIMISER.weights,
      now: now * 1000,
    };
    for (const mig of optimise(placed, v.hosts, v.links, options)) {
      const c = contexts.get(mig.context);
      const to = hostIndex.get(mig.to);
      if (c && to !== undefined) move(c, to, mig.path, mig.reason);
    }
  };

  // The seed: each host over max load or under min key availability gives up one context per period,
  // re-placed as a new one would be (weighted random over the other hosts).
  const optimiseSeed = () => {
    const v = view('raw');
    instance.hosts.forEach((_, i) => {
      const hv = v.hosts[i]!;
      const path = [...onHost[i]!][0]?.links ?? [];
      const avail = Math.min(1, ...path.map((l) => snapAvail[l] as number));
      const app = instance.apps[0]!;
      const overloaded = hv.load > app.maxLoad;
      if (!overloaded && avail >= app.minKeyAvailability) return;
      const victims = [...onHost[i]!];
      const c = victims[Math.floor(rng() * victims.length)];
      if (!c) return;
      const choice = seedWeightedRandom.place(request(c), view('raw', i), rng);
      const to = choice && hostIndex.get(choice.host);
      if (choice && to !== undefined) move(c, to, choice.path, overloaded ? 'HostOverloaded' : 'KeysLow');
    });
  };

  const arrive = (index: number) => {
    const a = trace[index]!;
    const counted = index >= cfg.warmup;
    if (counted) m.arrivals++;
    const v = view(policy.view);
    const id = `c${index}`;
    const t0 = process.hrtime.bigint();
    const choice = policy.place(request({ id, app: a.app }), v, rng);
    if (counted) {
      m.decisionNs += Number(process.hrtime.bigint() - t0);
      m.decisions++;
    }
    const host = choice && hostIndex.get(choice.host);
    const links = choice && linksOf(choice.path);
    if (host === undefined || !links || !fits(a.app, host, links)) {
      if (counted) {
        m.blocked++;
        if (choice) m.misplaced++;
      }
      return;
    }
    const c: Ctx = {
      id,
      app: a.app,
      host,
      links,
      kmes: choice!.path,
      since: now,
      lastMoved: 0,
      departAt: now + a.holding,
    };
    contexts.set(id, c);
    charge(c, 1);
    q.push({ kind: 'departure', id, time: c.departAt });
  };

  const remove = (c: Ctx) => {
    contexts.delete(c.id);
    charge(c, -1);
  };

  const empty = (l: number) => {
    advance(l);
    // newest first: the contexts that arrived last are the ones the link could not carry
    const victims = [...onLink[l]!].sort((a, b) => b.since - a.since);
    for (const c of victims) {
      if ((draw[l] as number) <= (skr[l] as number) + 1e-9) break;
      remove(c);
      if (measuring()) m.dropped++;
    }
  };

  let samples = 0;
  const sample = () => {
    if (!measuring()) return;
    const u = instance.hosts.map((h, i) => (used[i] as number) / h.capacity);
    m.jain += jain(u);
    m.spread += Math.max(...u) - Math.min(...u);
    m.overload += u.filter((x, i) => x > instance.apps[0]!.maxLoad + 1e-9 && onHost[i]!.size > 0).length / H;
    samples++;
  };

  trace.forEach((_, index) => {
    q.push({ kind: 'arrival', index, time: trace[index]!.time });
  });
  if (cfg.telemetryPeriodS > 0) q.push({ kind: 'telemetry', time: 0 });
  if (cfg.trigger !== 'never') q.push({ kind: 'optimise', time: period });
  q.push({ kind: 'sample', time: 0 });
  const ends = new Map<Disturbance, number>();
  if (cfg.disturbances) {
    const all = disturbanceTrace(cfg.seed, L, endAt, cfg.disturbances);
    all.forEach((d, i) => {
      if (d.factor < 1) ends.set(d, all.slice(i + 1).find((x) => x.link === d.link)?.time ?? endAt);
      q.push({ kind: 'disturbance', d, time: d.time });
    });
  }

  for (let e = q.pop(); e && e.time <= endAt; e = q.pop()) {
    now = e.time;
    switch (e.kind) {
      case 'arrival':
        arrive(e.index);
        break;
      case 'departure': {
        const c = contexts.get(e.id);
        if (c) remove(c);
        break;
      }
      case 'telemetry':
        snapshot();
        q.push({ kind: 'telemetry', time: now + cfg.telemetryPeriodS });
        break;
      case 'optimise':
        if (cfg.trigger === 'ours') optimiseOurs();
        else optimiseSeed();
        q.push({ kind: 'optimise', time: now + period });
        break;
      case 'sample':
        sample();
        q.push({ kind: 'sample', time: now + 10 });
        break;
      case 'disturbance':
        advance(e.d.link);
        skr[e.d.link] = instance.links[e.d.link]!.secretKeyRate * e.d.factor;
        recoverAt[e.d.link] = ends.get(e.d) ?? now;
        reschedule(e.d.link);
        break;
      case 'empty':
        if (e.version === version[e.link]) empty(e.link);
        break;
    }
  }
  now = endAt;
  for (let l = 0; l < L; l++) advance(l);
  m.hours = (endAt - warmAt) / 3600;
  if (samples) {
    m.jain /= samples;
    m.spread /= samples;
    m.overload /= samples;
  }
  return m;
}
