// Client-side secure-invocation metrics, for apps that expose Prometheus: keys fetched, invocations
// per key, envelope failures by reason. Labels carry reasons only.
import { Counter, Histogram, Registry } from 'prom-client';

export function createClientMetrics(registry = new Registry()) {
  return {
    registry,
    keysFetched: new Counter({
      name: 'mecqkd_client_keys_fetched_total',
      help: 'QKD keys fetched from the client KME with enc_keys.',
      registers: [registry],
    }),
    invocationsPerKey: new Histogram({
      name: 'mecqkd_client_invocations_per_key',
      help: 'Invocations a QKD key served before it was retired.',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 10_000],
      registers: [registry],
    }),
    failures: new Counter({
      name: 'mecqkd_client_envelope_failures_total',
      help: 'Invocations that failed, by reason (refused by the host or a bad answer).',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
  };
}
export type ClientMetrics = ReturnType<typeof createClientMetrics>;
