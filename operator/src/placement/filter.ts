// Feasibility of each host for one placement request. Checks run cheapest first and stop at the first
// failure, so each rejected host reports the one check it failed.

import { hostInLocation } from '@mecqkd/crds/location';
import {
  DEFAULT_MAX_HOPS,
  feasiblePaths,
  type KeyGraph,
  type KeyPath,
  type KeyPaths,
  keyPaths,
  linkUsable,
} from './key-graph.ts';
import type { HostView, PlacementRequest } from './types.ts';

/** In the order they run; a later check means the host got further. */
export const CHECKS = ['Ready', 'Selector', 'Location', 'Load', 'Contexts', 'KeyPath', 'Keys'] as const;
export type Check = (typeof CHECKS)[number];

export interface Rejection {
  host: string;
  check: Check;
  detail: string;
}

export interface Feasible {
  host: HostView;
  path: KeyPath;
}

export interface FilterOptions {
  maxHops?: number;
  /** Hysteresis for migration targets: load must end at least this far below the ceiling. */
  loadMargin?: number;
  /** Hysteresis for migration targets: key availability must exceed the minimum by this much. */
  keyMargin?: number;
  /** Per host, a load ceiling below demand.maxLoad (the lowest maxLoad of the contexts already there). */
  loadCeiling?: ReadonlyMap<string, number>;
}

const round = (x: number) => Number(x.toFixed(3));

function selectorMismatch(host: HostView, selector: [string, string][]): string | undefined {
  for (const [k, v] of selector) {
    if (host.labels[k] !== v) return `label ${k}=${host.labels[k] ?? '<absent>'}, selector wants ${v}`;
  }
  return undefined;
}

export function filterHosts(
  request: PlacementRequest,
  hosts: readonly HostView[],
  graph: KeyGraph,
  opts: FilterOptions = {},
): { feasible: Feasible[]; rejected: Rejection[] } {
  const { demand } = request;
  const maxHops = opts.maxHops ?? DEFAULT_MAX_HOPS;
  const keyMargin = opts.keyMargin ?? 0;
  const loadMargin = opts.loadMargin ?? 0;
  const feasible: Feasible[] = [];
  const rejected: Rejection[] = [];
  let paths: KeyPaths | undefined;
  let structural: KeyPaths | undefined;
  const reject = (host: HostView, check: Check, detail: string) =>
    rejected.push({ host: host.name, check, detail });
  const selector = Object.entries(demand.hostSelector ?? {});
  const anywhere = !demand.appLocation?.length && request.requestedLocation === undefined;

  for (const host of hosts) {
    if (!host.ready) {
      reject(host, 'Ready', 'not ready or telemetry stale');
      continue;
    }
    const mismatch = selector.length ? selectorMismatch(host, selector) : undefined;
    if (mismatch) {
      reject(host, 'Selector', mismatch);
      continue;
    }
    if (!anywhere && !hostInLocation(host.location, demand.appLocation, request.requestedLocation)) {
      reject(host, 'Location', 'outside the app and requested locations');
      continue;
    }
    const ceiling = Math.min(demand.maxLoad, opts.loadCeiling?.get(host.name) ?? 1) - loadMargin;
    if (host.load + demand.loadPerContext > ceiling) {
      reject(
        host,
        'Load',
        `load ${round(host.load)} + ${round(demand.loadPerContext)} > ${round(ceiling)}` +
          (loadMargin ? ` (max ${round(ceiling + loadMargin)} − margin ${loadMargin})` : ''),
      );
      continue;
    }
    if (host.maxContexts !== undefined && host.contexts + 1 > host.maxContexts) {
      reject(host, 'Contexts', `${host.contexts} contexts, max ${host.maxContexts}`);
      continue;
    }
    paths ??= feasiblePaths(graph, request.clientKmeId, demand, keyMargin, maxHops);
    const path = paths.get(host.kmeId);
    if (path) {
      feasible.push({ host, path });
      continue;
    }
    structural ??= keyPaths(graph, request.clientKmeId, linkUsable, maxHops);
    const best = structural.get(host.kmeId);
    if (!best) {
      reject(
        host,
        'KeyPath',
        `no ACTIVE QKD path ${request.clientKmeId}→${host.kmeId} within ${maxHops} hops`,
      );
      continue;
    }
    reject(
      host,
      'Keys',
      `path ${best.kmes.join('→')}: key availability ${round(best.keyAvailability)} (min ${round(
        demand.minKeyAvailability + keyMargin,
      )}), spare ${Math.round(best.spareKeyRate)} b/s (need ${Math.round(demand.keyRate)} on every hop)`,
    );
  }
  return { feasible, rejected };
}

const REASONS: Record<Check, string> = {
  Ready: 'NoReadyHost',
  Selector: 'NoHostMatchesSelector',
  Location: 'NoHostInLocation',
  Load: 'HostsOverloaded',
  Contexts: 'HostsFull',
  KeyPath: 'NoKeyPath',
  Keys: 'KeysLow',
};

const MESSAGE_HOSTS = 20;

/**
 * The condition reason and message when no host is feasible: the reason names the furthest check any
 * host reached (what the closest hosts lacked); the message lists hosts and the check each failed.
 */
export function infeasibility(rejected: readonly Rejection[]): { reason: string; message: string } {
  if (rejected.length === 0) return { reason: 'NoReadyHost', message: 'no MecHosts in the namespace' };
  const furthest = Math.max(...rejected.map((r) => CHECKS.indexOf(r.check)));
  // Hosts that got furthest first: they are the ones an operator would fix.
  const ordered = [...rejected].sort(
    (a, b) => CHECKS.indexOf(b.check) - CHECKS.indexOf(a.check) || a.host.localeCompare(b.host),
  );
  const listed = ordered.slice(0, MESSAGE_HOSTS).map((r) => `${r.host}: ${r.detail}`);
  const more = rejected.length > MESSAGE_HOSTS ? `; and ${rejected.length - MESSAGE_HOSTS} more` : '';
  return {
    reason: REASONS[CHECKS[furthest] as Check],
    message: `no feasible host among ${rejected.length}: ${listed.join('; ')}${more}`,
  };
}
