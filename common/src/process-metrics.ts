// The process's own metrics (prom-client's defaults: process_* and nodejs_*, the V8 heap, event-loop
// lag, GC, open fds), what `make soak` samples to tell V8 heap growth from RSS growth. One registry per
// process, collected once: each collectDefaultMetrics call starts an event-loop monitor and a GC
// observer that are never stopped, and a test process runs many servers. Each server appends it to
// its own /metrics instead (where its default labels, an SAE's or a KME's ID, do not belong).
import { collectDefaultMetrics, Registry } from 'prom-client';
import { processGlobal } from './process-global.ts';

const processRegistry = (): Registry =>
  processGlobal('process-metrics', () => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    return registry;
  });

/** `registry`'s exposition followed by the process's own metrics. */
export async function metricsWithProcess(registry: Registry): Promise<string> {
  return `${await registry.metrics()}\n${await processRegistry().metrics()}`;
}
