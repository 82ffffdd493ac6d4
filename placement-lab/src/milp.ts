// Upper bounds with HiGHS (WebAssembly): the fluid capacity of an instance (LP), used to express offered
// load as a fraction of capacity, and the offline optimum of a trace (MILP): knowing every arrival and
// departure in advance, admit and place contexts (no migration) to admit as many as possible while, at
// every arrival instant, each host's CPU stays within maxLoad·capacity and each link's key draw within
// its secret key rate. Occupancy only grows at arrivals, so those instants are the only ones to check.

import { buildKeyGraph, keyPaths, linkUsable } from '@mecqkd/operator/placement/key-graph';
import type { LinkView } from '@mecqkd/operator/placement/types';
import highsModule from 'highs';
import { CLIENT_KME, type Instance } from './model.ts';
import type { Arrival } from './trace.ts';

// highs ships CommonJS typings but an ES module entry: the default import is the loader at run time.
type Loader = typeof highsModule.default;
const loadHighs = ((highsModule as unknown as { default?: Loader }).default ??
  highsModule) as unknown as Loader;
let solver: ReturnType<Loader> | undefined;
const highs = () => {
  solver ??= loadHighs();
  return solver;
};

/** Link indexes of each host's key path (fewest hops, as every policy finds it on an idle network). */
export function hostPaths(instance: Instance): number[][] {
  const views: LinkView[] = instance.links.map((l) => ({
    name: l.name,
    ends: l.ends,
    state: 'ACTIVE',
    keyAvailability: 1,
    secretKeyRate: l.secretKeyRate,
    committedKeyRate: 0,
    fresh: true,
  }));
  const paths = keyPaths(buildKeyGraph(views), CLIENT_KME, linkUsable);
  return instance.hosts.map((h) => {
    const p = paths.get(h.kmeId);
    if (!p) throw new Error(`host ${h.name}: no key path from ${CLIENT_KME}`);
    return p.links;
  });
}

// Wall-clock limits: a solve that takes seconds alone takes minutes on a machine shared at load 30.
async function solve(lp: string, what: string, timeLimitS = 600) {
  const h = await highs();
  const r = h.solve(lp, { output_flag: false, time_limit: timeLimitS, mip_rel_gap: 0 });
  if (r.Status !== 'Optimal') throw new Error(`${what}: HiGHS ended with status ${r.Status}`);
  return r;
}

const num = (x: number) => x.toPrecision(12);

/** Mean contexts the instance holds when filled with the average app (LP over hosts). */
export async function fluidCapacity(instance: Instance): Promise<number> {
  const apps = instance.apps;
  const cpu = apps.reduce((s, a) => s + a.cpu, 0) / apps.length;
  const key = apps.reduce((s, a) => s + a.keyRate, 0) / apps.length;
  const paths = hostPaths(instance);
  const rows: string[] = [];
  instance.hosts.forEach((h, i) => {
    rows.push(` cpu${i}: ${num(cpu)} x${i} <= ${num((apps[0]?.maxLoad ?? 1) * h.capacity)}`);
  });
  instance.links.forEach((l, li) => {
    const users = instance.hosts.map((_, i) => i).filter((i) => paths[i]?.includes(li));
    if (users.length)
      rows.push(` key${li}: ${users.map((i) => `${num(key)} x${i}`).join(' + ')} <= ${num(l.secretKeyRate)}`);
  });
  const lp = `Maximize\n obj: ${instance.hosts.map((_, i) => `x${i}`).join(' + ')}\nSubject To\n${rows.join('\n')}\nEnd`;
  return (await solve(lp, 'fluid capacity')).ObjectiveValue;
}

export interface Optimum {
  admitted: number;
  /** Host index per arrival, or -1 when rejected. */
  assignment: number[];
}

/** The offline optimum of `trace` (all of it, from an empty system). */
export async function offlineOptimum(
  instance: Instance,
  trace: readonly Arrival[],
  timeLimitS = 600,
): Promise<Optimum> {
  const H = instance.hosts.length;
  const paths = hostPaths(instance);
  const x = (j: number, h: number) => `x${j}_${h}`;
  const rows: string[] = [];
  trace.forEach((_, j) => {
    rows.push(` one${j}: ${instance.hosts.map((_, h) => x(j, h)).join(' + ')} <= 1`);
  });
  trace.forEach((a, i) => {
    const active = trace
      .map((b, j) => ({ b, j }))
      .filter(({ b }) => b.time <= a.time && a.time < b.time + b.holding);
    // only the instants where a context arrives while others are present can bind
    instance.hosts.forEach((host, h) => {
      const limit = (instance.apps[a.app]?.maxLoad ?? 1) * host.capacity;
      const total = active.reduce((s, { b }) => s + instance.apps[b.app]!.cpu, 0);
      if (total <= limit) return;
      const terms = active.map(({ b, j }) => `${num(instance.apps[b.app]!.cpu)} ${x(j, h)}`);
      rows.push(` cpu${i}_${h}: ${terms.join(' + ')} <= ${num(limit)}`);
    });
    instance.links.forEach((l, li) => {
      const users = [...Array(H).keys()].filter((h) => paths[h]?.includes(li));
      if (users.length === 0) return;
      // a context sits on one host at most, so the link can at most carry every active one once
      const total = active.reduce((s, { b }) => s + instance.apps[b.app]!.keyRate, 0);
      if (total <= l.secretKeyRate) return;
      const terms = active.flatMap(({ b, j }) =>
        users.map((h) => `${num(instance.apps[b.app]!.keyRate)} ${x(j, h)}`),
      );
      rows.push(` key${i}_${li}: ${terms.join(' + ')} <= ${num(l.secretKeyRate)}`);
    });
  });
  const vars = trace.flatMap((_, j) => instance.hosts.map((_, h) => x(j, h)));
  const lp = [
    'Maximize',
    ` obj: ${vars.join(' + ')}`,
    'Subject To',
    ...rows,
    'Binary',
    ` ${vars.join(' ')}`,
    'End',
  ].join('\n');
  const r = await solve(lp, `offline optimum of ${trace.length} arrivals`, timeLimitS);
  const assignment = trace.map((_, j) => {
    for (let h = 0; h < H; h++) if ((r.Columns[x(j, h)]?.Primal ?? 0) > 0.5) return h;
    return -1;
  });
  return { admitted: assignment.filter((h) => h >= 0).length, assignment };
}
