// Host SAE metrics: keys fetched, invocations per key, envelope failures by reason. Labels carry
// reasons only — never key IDs, contexts or anything from an envelope's payload.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export function createHostSaeMetrics(saeId: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ sae_id: saeId });
  return {
    registry,
    keysFetched: new Counter({
      name: 'mecqkd_host_sae_keys_fetched_total',
      help: 'QKD keys fetched from the host KME with dec_keys.',
      registers: [registry],
    }),
    invocations: new Counter({
      name: 'mecqkd_host_sae_invocations_total',
      help: 'Per-invocation keys handed to action wrappers.',
      registers: [registry],
    }),
    invocationsPerKey: new Histogram({
      name: 'mecqkd_host_sae_invocations_per_key',
      help: 'Invocations a QKD key served before it was spent or expired.',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 10_000],
      registers: [registry],
    }),
    failures: new Counter({
      name: 'mecqkd_host_sae_envelope_failures_total',
      help: 'Envelopes refused, by reason (here or reported by the action wrapper).',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    tlsHandshakes: new Counter({
      name: 'mecqkd_host_sae_tls_handshakes_total',
      help: 'TLS connections wrappers opened to this SAE.',
      registers: [registry],
    }),
    keyAllowanceUnchecked: new Counter({
      name: 'mecqkd_host_sae_key_allowance_unchecked_total',
      help: 'New keys admitted without a key allowance check because Redis did not answer.',
      registers: [registry],
    }),
    keysHeld: new Gauge({
      name: 'mecqkd_host_sae_keys_held',
      help: 'QKD keys the SAE holds (with material) now.',
      registers: [registry],
    }),
  };
}
export type HostSaeMetrics = ReturnType<typeof createHostSaeMetrics>;
