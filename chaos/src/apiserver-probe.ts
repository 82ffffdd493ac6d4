// What the kube-apiserver says about its own memory during a soak: the Go heap live after the last
// GC (its RSS also holds the heap the GC has not yet returned to the OS, so RSS alone cannot tell a
// leak from the collector's pacing), its goroutines (a watch or connection never closed keeps two),
// the watches it serves and the objects it stores (Events included, which live --event-ttl, 1 h).
import { parseExposition } from '@mecqkd/common/exposition';

export type ApiserverSample = Partial<
  Record<'heap live' | 'goroutines' | 'watches' | 'stored objects', number>
>;

/** `metrics` reads the apiserver's /metrics text (authenticated: kubectl get --raw /metrics). */
export async function sampleApiserver(metrics: () => Promise<string>): Promise<ApiserverSample> {
  try {
    const series = parseExposition(await metrics());
    const sum = (match: (s: (typeof series)[number]) => boolean) =>
      series.filter(match).reduce((n, s) => n + s.value, 0);
    return {
      'heap live': series.find((s) => s.name === 'go_gc_heap_live_bytes')?.value,
      goroutines: series.find((s) => s.name === 'go_goroutines')?.value,
      watches: sum((s) => s.name === 'apiserver_longrunning_requests' && s.labels.verb === 'WATCH'),
      'stored objects': sum((s) => s.name === 'apiserver_storage_objects'),
    };
  } catch {
    return {}; // the apiserver restarting
  }
}
