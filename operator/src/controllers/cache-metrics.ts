// Gauges of the system as the leader's caches see it — AppContexts per host and phase, each host's
// load and key availability — computed at every scrape, so they cannot drift from the objects.
// A standby replica has no caches and reports none. Host names are bounded (the MecHosts), object
// names of contexts never become labels.
import type { AppContext, MecHost } from '@mecqkd/crds';
import { registry } from '@mecqkd/kube/metrics';
import { Gauge } from 'prom-client';

interface Source {
  contexts: () => readonly AppContext[];
  hosts: () => readonly MecHost[];
}

let source: Source | undefined;

/** Contexts per (namespace, phase, host); host "" while not placed. */
export function countContexts(contexts: readonly AppContext[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const c of contexts) {
    const key = JSON.stringify([
      c.metadata.namespace ?? '',
      c.status?.phase ?? 'Pending',
      c.status?.host ?? '',
    ]);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

new Gauge({
  name: 'mecqkd_appcontexts',
  help: 'AppContexts by namespace, phase and MEC host (host "" while not placed), from the leader cache',
  labelNames: ['namespace', 'phase', 'host'],
  registers: [registry],
  collect() {
    this.reset();
    for (const [key, n] of countContexts(source?.contexts() ?? [])) {
      const [namespace, phase, host] = JSON.parse(key) as [string, string, string];
      this.labels(namespace, phase, host).set(n);
    }
  },
});

const hostGauge = (name: string, help: string, pick: (h: MecHost) => number | undefined) =>
  new Gauge({
    name,
    help,
    labelNames: ['namespace', 'host'],
    registers: [registry],
    collect() {
      this.reset();
      for (const h of source?.hosts() ?? []) {
        const v = pick(h);
        if (v !== undefined) this.labels(h.metadata.namespace ?? '', h.metadata.name).set(v);
      }
    },
  });
hostGauge(
  'mecqkd_mechost_load',
  'Platform load of each MecHost in [0,1] (status.load)',
  (h) => h.status?.load,
);
hostGauge(
  'mecqkd_mechost_key_availability',
  'Key availability of each MecHost in [0,1] (status.keyAvailability)',
  (h) => h.status?.keyAvailability,
);

/** Makes the gauges read these caches (the leader's) until the returned function is called. */
export function reportFromCaches(s: Source): () => void {
  source = s;
  return () => {
    if (source === s) source = undefined;
  };
}
