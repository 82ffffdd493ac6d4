// Periodic optimisation: move contexts off hosts that are not ready, overloaded for them, or whose key
// path is short of key: a hop that is over-committed (its contexts' committed key rate above what it
// supplies, so its buffer is draining) and whose stored key runs out within drainHorizonMs at that
// drain — or, when the stored key is not measured, whose availability is below the context's
// minKeyAvailability. A buffer that is refilling, or that outlasts the horizon, keeps its contexts:
// disturbances mostly end and contexts leave before it runs dry, and each move costs a notification
// and a cold start. Anti-oscillation rules:
// - hysteresis: a target must end at least loadMargin below the lowest maxLoad of the contexts it will
//   hold, and its key path at least keyMargin above the context's minKeyAvailability with spare rate
//   for the context, so the move itself can never re-trigger on the target with the same telemetry;
// - an over-committed hop sheds contexts, heaviest key rate first, until its committed rate is at most
//   (1 − keyRateMargin) × its secret key rate: the buffer then refills at a tenth of the rate or more,
//   and a wobble of the measured rate inside the margin does not re-trigger;
// - with the stored key known, a hop sheds only until that key lasts the horizon: a slice per round
//   while the buffer is still large, instead of everything once it is nearly empty, saves the moves a
//   recovering link or a departure makes unnecessary; the horizon spans the next round and the
//   telemetry's age, so the buffer does not run dry in between;
// - the target must beat the origin's score by minScoreGain; the origin scores −∞ when not ready or
//   short of key (the context must leave: any feasible target beats a drop, and waiting for a better
//   one lets the buffer run dry);
// - a context placed or moved within cooldownMs stays; at most maxMigrationsPerRound moves per call, and
//   no context moves twice in one call.
import { z } from 'zod';
import { candidates } from './candidates.ts';
import { bestCandidate } from './choose.ts';
import type { FilterOptions } from './filter.ts';
import {
  buildKeyGraph,
  commit,
  DEFAULT_MAX_HOPS,
  type KeyGraph,
  type KeyPath,
  type KeyPaths,
  keyHeadroom,
  keyPaths,
  linkUsable,
  pathOver,
} from './key-graph.ts';
import { score, scoreWeightsSchema } from './score.ts';
import type { HostView, LinkView, Migration, OptimiseOptions, PlacedContext } from './types.ts';
import { validatePlaced, validateViews } from './validate.ts';

export const optimiseOptionsSchema = z.object({
  maxMigrationsPerRound: z.int().min(0),
  minScoreGain: z.number().min(0).max(1),
  cooldownMs: z.number().min(0),
  now: z.number(),
  weights: scoreWeightsSchema,
  loadMargin: z.number().min(0).max(1).default(0.1),
  keyMargin: z.number().min(0).max(1).default(0.1),
  keyRateMargin: z.number().min(0).max(1).default(0.1),
  maxHops: z.int().min(0).max(16).default(DEFAULT_MAX_HOPS),
  drainHorizonMs: z.number().min(0).default(60_000),
});

const PRIORITY: Record<string, number> = { HostNotReady: 0, KeysLow: 1, HostOverloaded: 2 };

/**
 * Key paths of placed contexts as they stand (see PlacedContext.path). Searches are shared between
 * contexts of one client KME and minimum, so the tracker must be dropped once the graph changes.
 */
export function pathTracker(graph: KeyGraph, maxHops = DEFAULT_MAX_HOPS) {
  const searches = new Map<string, KeyPaths>();
  const search = (from: string, min: number | undefined) => {
    const key = `${from}\n${min ?? 'any'}`;
    let paths = searches.get(key);
    if (!paths) {
      const usable =
        min === undefined ? linkUsable : (l: LinkView) => linkUsable(l) && l.keyAvailability >= min;
      paths = keyPaths(graph, from, usable, maxHops);
      searches.set(key, paths);
    }
    return paths;
  };
  return (context: PlacedContext, hostKmeId: string): KeyPath | undefined => {
    const held = context.path;
    if (held && held.at(-1) === hostKmeId && held[0] === context.clientKmeId) {
      const path = pathOver(graph, held);
      if (path) return path;
    }
    // Re-derived: the shortest path meeting the minimum, else the shortest ACTIVE one (which fails it).
    return (
      search(context.clientKmeId, context.demand.minKeyAvailability).get(hostKmeId) ??
      search(context.clientKmeId, undefined).get(hostKmeId)
    );
  };
}

/**
 * Links with committedKeyRate recomputed from the placed contexts (each charged on every hop of its
 * current path), for callers that hold no running total.
 */
export function withCommittedKeyRates(
  links: readonly LinkView[],
  placed: readonly PlacedContext[],
  hosts: readonly HostView[],
  maxHops = DEFAULT_MAX_HOPS,
): LinkView[] {
  const graph = buildKeyGraph(links.map((l) => ({ ...l, committedKeyRate: 0 })));
  const kme = new Map(hosts.map((h) => [h.name, h.kmeId]));
  // Path searches ignore committed rates, so charging as we go leaves later searches unchanged.
  const track = pathTracker(graph, maxHops);
  for (const p of placed) {
    const hostKme = kme.get(p.host);
    const path = hostKme === undefined ? undefined : track(p, hostKme);
    if (path) commit(graph, path, p.demand.keyRate);
  }
  return graph.links;
}

export function optimise(
  placed: readonly PlacedContext[],
  hosts: readonly HostView[],
  links: readonly LinkView[],
  options: OptimiseOptions,
): Migration[] {
  const parsed = optimiseOptionsSchema.safeParse(options);
  if (!parsed.success) throw new Error(`invalid optimisation options: ${z.prettifyError(parsed.error)}`);
  const opts = parsed.data;
  validateViews(hosts, links);
  validatePlaced(placed);
  const state = new Map(hosts.map((h) => [h.name, { ...h }]));
  const all = [...state.values()];
  const graph = buildKeyGraph([...links]);
  const ceiling = new Map<string, number>();
  const lower = (host: string, maxLoad: number) =>
    ceiling.set(host, Math.min(ceiling.get(host) ?? 1, maxLoad));

  const track = pathTracker(graph, opts.maxHops);
  const entries = placed.map((p) => {
    const host = state.get(p.host);
    lower(p.host, p.demand.maxLoad);
    return { p, host: p.host, path: host ? track(p, host.kmeId) : undefined };
  });
  type Entry = (typeof entries)[number];

  // A dead hop (not ACTIVE, or telemetry stale) supplies nothing. Over-commitment is judged on the
  // telemetry as observed; moves within this call then relieve a hop down to the margin.
  const supply = (l: LinkView) => (linkUsable(l) ? l.secretKeyRate : 0);
  const overCommitted = new Set(graph.links.flatMap((l, i) => (l.committedKeyRate > supply(l) ? [i] : [])));
  /** Whether the stored key runs out within the horizon; undefined when not known (or switched off). */
  const runsDry = (l: LinkView): boolean | undefined => {
    if (opts.drainHorizonMs === 0 || l.storedKeyBits === undefined || !linkUsable(l)) return undefined;
    const drain = l.committedKeyRate - l.secretKeyRate;
    return drain > 0 && (1000 * l.storedKeyBits) / drain < opts.drainHorizonMs;
  };
  const hopShort = (i: number, minKeyAvailability: number) => {
    const l = graph.links[i] as LinkView;
    if (!overCommitted.has(i) || l.committedKeyRate <= (1 - opts.keyRateMargin) * supply(l)) return false;
    return runsDry(l) ?? (linkUsable(l) ? l.keyAvailability : 0) < minKeyAvailability;
  };

  const trigger = (e: Entry): string | undefined => {
    const host = state.get(e.host);
    if (!host?.ready) return 'HostNotReady';
    if (!e.path || e.path.links.some((i) => hopShort(i, e.p.demand.minKeyAvailability))) return 'KeysLow';
    if (host.load > e.p.demand.maxLoad) return 'HostOverloaded';
    return undefined;
  };

  // Worst first; within a reason, the heaviest in the resource that is short first (fewest moves).
  const weight = (x: { e: Entry; reason: string }) =>
    x.reason === 'KeysLow' ? x.e.p.demand.keyRate : x.e.p.demand.loadPerContext;
  const queue = entries
    .filter((e) => opts.now - e.p.placedAt >= opts.cooldownMs)
    .map((e) => ({ e, reason: trigger(e) }))
    .filter((x): x is { e: Entry; reason: string } => x.reason !== undefined)
    .sort(
      (a, b) =>
        (PRIORITY[a.reason] as number) - (PRIORITY[b.reason] as number) ||
        weight(b) - weight(a) ||
        (a.e.p.context < b.e.p.context ? -1 : 1),
    );

  const filterOpts: FilterOptions = {
    maxHops: opts.maxHops,
    loadMargin: opts.loadMargin,
    keyMargin: opts.keyMargin,
    loadCeiling: ceiling,
  };
  const migrations: Migration[] = [];
  for (const { e } of queue) {
    if (migrations.length >= opts.maxMigrationsPerRound) break;
    const reason = trigger(e); // earlier moves may have relieved the host
    if (!reason) continue;
    const { demand } = e.p;
    const origin = state.get(e.host);
    const originScore =
      !origin?.ready || reason === 'KeysLow' || !e.path
        ? Number.NEGATIVE_INFINITY
        : score(opts.weights, {
            load: origin.load,
            contexts: origin.contexts,
            maxContexts: origin.maxContexts,
            hops: e.path.links.length,
            keyAvailability: e.path.keyAvailability,
            keyHeadroom: keyHeadroom(graph, e.path, 0), // its own key rate is drawn there already
          });
    // Judge targets as if the context had already left its origin (shared links get its key rate back).
    const release = (sign: 1 | -1) => {
      if (origin) {
        origin.load -= sign * demand.loadPerContext;
        origin.contexts -= sign;
      }
      if (e.path) commit(graph, e.path, -sign * demand.keyRate);
    };
    release(1);
    const request = {
      context: e.p.context,
      clientKmeId: e.p.clientKmeId,
      demand,
      requestedLocation: e.p.requestedLocation,
    };
    const targets = all.filter((h) => h.name !== e.host);
    const { scored } = candidates(request, targets, graph, opts.weights, filterOpts);
    const best = bestCandidate(scored.map((s) => s.candidate));
    if (!best || best.score < originScore + opts.minScoreGain) {
      release(-1);
      continue;
    }
    const target = scored.find((s) => s.candidate === best)!;
    target.host.load += demand.loadPerContext;
    target.host.contexts += 1;
    commit(graph, target.path, demand.keyRate);
    lower(target.host.name, demand.maxLoad);
    migrations.push({ context: e.p.context, from: e.host, to: best.host, path: best.path, reason });
    e.host = best.host;
    e.path = target.path;
  }
  return migrations;
}
